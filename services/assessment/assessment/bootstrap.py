"""The composition root: settings, runtime, projections, aggregates and routes wired together."""
from __future__ import annotations

from fastapi import FastAPI

from ttct.aggregates import Aggregates
from ttct.app import build_app
from ttct.contracts import LearnerEnrolled
from ttct.runtime import Runtime

from assessment.adapters import views
from assessment.domain.results import Result, evolve
from assessment.entrypoints.http import router
from assessment.settings import AssessmentSettings


def create_app(settings: AssessmentSettings) -> FastAPI:
    runtime = Runtime(settings, schema=views.SCHEMA,
                      projections={"enrolment": {LearnerEnrolled: views.on_learner_enrolled}})

    def on_start(app: FastAPI, rt: Runtime) -> None:
        app.state.results = Aggregates(rt.store, Result, evolve, clock=rt.clock, new_id=rt.new_id)

    return build_app(runtime, title="Assessment", routers=[router], on_start=on_start,
                     description="Learners' final scores and grade bands, per class.")
