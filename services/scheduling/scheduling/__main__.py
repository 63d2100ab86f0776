from ttct.runtime import serve
from ttct.settings import load_settings

from scheduling.bootstrap import create_app
from scheduling.settings import SchedulingSettings

settings = load_settings(SchedulingSettings)
serve(create_app(settings), settings)
