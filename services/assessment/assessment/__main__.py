from ttct.http.app import main

from assessment.bootstrap import create_app
from assessment.settings import AssessmentSettings

main(AssessmentSettings, create_app)
