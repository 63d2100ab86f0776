from ttct.http.app import main

from notification.bootstrap import create_app
from notification.settings import NotificationSettings

main(NotificationSettings, create_app)
