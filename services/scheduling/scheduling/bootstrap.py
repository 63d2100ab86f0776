"""The composition root: settings, runtime, aggregates and routes wired together."""
from __future__ import annotations

from fastapi import FastAPI
from ttct import centres
from ttct.http.app import build_app
from ttct.operations.runtime import Runtime

from scheduling.adapters import catalogue, class_views, registry, row_security
from scheduling.domain.classes import ClassState, evolve
from scheduling.entrypoints import catalogue as catalogue_routes
from scheduling.entrypoints import lecturers as lecturer_routes
from scheduling.entrypoints import papers as paper_routes
from scheduling.entrypoints import teaching_hours as teaching_hours_routes
from scheduling.entrypoints.http import router
from scheduling.settings import SchedulingSettings


def create_app(settings: SchedulingSettings) -> FastAPI:
    runtime = Runtime(settings, schema=[*class_views.SCHEMA, *catalogue.SCHEMA, *registry.SCHEMA,
                                         *row_security.SCHEMA],
                      projections={"enrolment": centres.HANDLERS}, projection_tables=centres.TABLES)

    def on_start(app: FastAPI, rt: Runtime) -> None:
        app.state.classes = rt.aggregates(ClassState, evolve)

    return build_app(runtime, title="Scheduling",
                     routers=[router, catalogue_routes.router, lecturer_routes.router, paper_routes.router,
                             teaching_hours_routes.router],
                     on_start=on_start,
                     description="A centre's programme catalogue, classes through their lifecycle, sessions with "
                                 "their lecturers and venues (clashes refused province-wide), the province's "
                                 "lecturer register.")
