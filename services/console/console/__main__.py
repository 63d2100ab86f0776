import uvicorn
from ttct.operations.logging import configure_logging
from ttct.operations.settings import load_settings

from console.app import create_app
from console.settings import ConsoleSettings

settings = load_settings(ConsoleSettings)  # type: ignore[type-var]
configure_logging(settings.service_name, settings.log_level)
uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_level=settings.log_level.lower())
