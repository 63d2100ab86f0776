from ttct.http.app import main

from enrolment.bootstrap import create_app
from enrolment.settings import EnrolmentSettings

main(EnrolmentSettings, create_app)
