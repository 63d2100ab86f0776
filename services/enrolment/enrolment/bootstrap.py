"""The composition root: settings, runtime, projections, aggregates and routes wired together."""
from __future__ import annotations

from fastapi import FastAPI

from ttct.aggregates import Aggregates
from ttct.app import build_app
from ttct.contracts import ClassOpened
from ttct.runtime import Runtime

from enrolment.adapters import views
from enrolment.domain.roster import Roster, evolve
from enrolment.entrypoints.http import router
from enrolment.settings import EnrolmentSettings


def create_app(settings: EnrolmentSettings) -> FastAPI:
    runtime = Runtime(settings, schema=views.SCHEMA,
                      projections={"scheduling": {ClassOpened: views.on_class_opened}})

    def on_start(app: FastAPI, rt: Runtime) -> None:
        app.state.rosters = Aggregates(rt.store, Roster, evolve, clock=rt.clock, new_id=rt.new_id)

    return build_app(runtime, title="Enrolment", routers=[router], on_start=on_start,
                     description="Enrol learners sent by their organisations into a centre's classes; rosters.")
