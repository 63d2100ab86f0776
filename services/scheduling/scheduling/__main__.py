from ttct.http.app import main

from scheduling.bootstrap import create_app
from scheduling.settings import SchedulingSettings

main(SchedulingSettings, create_app)
