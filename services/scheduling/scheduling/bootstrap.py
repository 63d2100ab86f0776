"""The composition root: settings, runtime, aggregates and routes wired together."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from ttct.aggregates import Aggregates
from ttct.http import install_problem_handlers
from ttct.logging import configure_logging
from ttct.runtime import Runtime
from ttct.telemetry import configure_tracing

from scheduling.adapters import class_views
from scheduling.domain.classes import ClassState, evolve
from scheduling.entrypoints.http import router
from scheduling.settings import SchedulingSettings


def create_app(settings: SchedulingSettings) -> FastAPI:
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name)
    runtime = Runtime(settings, schema=class_views.SCHEMA)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with runtime.lifespan(app):
            app.state.classes = Aggregates(runtime.store, ClassState, evolve, clock=runtime.clock,
                                           new_id=runtime.new_id)
            yield

    app = FastAPI(title="Scheduling", version="1", lifespan=lifespan,
                  description="A centre's classes: open them, list them, read one.")
    runtime.install(app)
    install_problem_handlers(app)
    app.include_router(router)
    return app
