"""The composition root: settings, runtime, projections, aggregates and routes wired together."""
from __future__ import annotations

import asyncio

from fastapi import FastAPI
from ttct.contracts import ClassOpened
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.http.app import build_app
from ttct.operations.runtime import Runtime
from ttct.privacy.personal import KeyRing

from enrolment.adapters import organisations, reorganisation, row_security, views
from enrolment.domain import centres as centre_domain
from enrolment.domain import organisations as organisation_domain
from enrolment.domain.roster import Roster, evolve, fold
from enrolment.entrypoints import capacity as capacity_routes
from enrolment.entrypoints import centres as centre_routes
from enrolment.entrypoints import decisions as decision_routes
from enrolment.entrypoints import erasure as erasure_routes
from enrolment.entrypoints import imports as import_routes
from enrolment.entrypoints import learners as learner_routes
from enrolment.entrypoints import organisations as organisation_routes
from enrolment.entrypoints import papers as paper_routes
from enrolment.entrypoints import reorganisation as reorganisation_routes
from enrolment.entrypoints.http import router
from enrolment.service_layer import erasure
from enrolment.settings import EnrolmentSettings


def create_app(settings: EnrolmentSettings) -> FastAPI:
    runtime = Runtime(settings, schema=[*views.SCHEMA, *organisations.SCHEMA, *reorganisation.SCHEMA,
                                        *row_security.SCHEMA],
                      projections={"scheduling": {ClassOpened: views.on_class_opened,
                                                  ClassCancelled: views.on_class_cancelled}},
                      projection_tables=["classes"], keyring=KeyRing())

    def on_start(app: FastAPI, rt: Runtime) -> None:
        app.state.rosters = rt.aggregates(Roster, evolve, fold=fold)
        app.state.lists_at_once = asyncio.Semaphore(settings.lists_at_once)
        app.state.organisations = rt.aggregates(organisation_domain.Organisation, organisation_domain.evolve)
        app.state.centres_register = rt.aggregates(centre_domain.Centre, centre_domain.evolve)
        app.state.erasures = rt.aggregates(lambda: None, erasure.evolve)

    return build_app(runtime, title="Enrolment", on_start=on_start,
                     routers=[router, import_routes.router, organisation_routes.router, learner_routes.router,
                              erasure_routes.router, paper_routes.router, capacity_routes.router,
                              decision_routes.router, reorganisation_routes.router, centre_routes.router],
                     description="Enrol learners sent by their organisations into a centre's classes: seats, "
                                 "quotas and waiting lists, transfers, bulk imports; the province's directory of "
                                 "sending organisations.")
