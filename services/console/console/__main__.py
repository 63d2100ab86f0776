import uvicorn
from ttct.operations.settings import load_settings

from console.app import create_app
from console.settings import ConsoleSettings

settings = load_settings(ConsoleSettings)  # type: ignore[type-var]
uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_level=settings.log_level.lower())
