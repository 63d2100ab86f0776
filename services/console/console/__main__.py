import uvicorn
from ttct.operations.logging import configure_logging
from ttct.operations.settings import load_settings

from console.app import create_app
from console.settings import ConsoleSettings


def app_from_environment():
    """The app as each worker process builds it for itself (uvicorn imports this in every worker)."""
    settings = load_settings(ConsoleSettings)  # type: ignore[type-var]
    configure_logging(settings.service_name, settings.log_level)
    return create_app(settings)


if __name__ == "__main__":
    settings = load_settings(ConsoleSettings)  # type: ignore[type-var]
    configure_logging(settings.service_name, settings.log_level)
    # an import string, not the app: with more than one worker each process imports and builds its own
    uvicorn.run("console.__main__:app_from_environment", factory=True, workers=settings.http_workers,
                host=settings.http_host, port=settings.http_port, log_level=settings.log_level.lower(),
                access_log=False)  # as the services: a log line per request was some 2% of its CPU in a profile
