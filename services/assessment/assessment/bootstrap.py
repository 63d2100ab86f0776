"""The composition root: settings, runtime, projections, aggregates and routes wired together."""
from __future__ import annotations

from functools import partial

from fastapi import FastAPI
from ttct import centres
from ttct.contracts import ClassOpened, DomainEvent, LearnerEnrolled
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.contracts.class_plan_changed import ClassPlanChanged
from ttct.contracts.learner_erased import LearnerErased
from ttct.contracts.learner_withdrawn import LearnerWithdrawn
from ttct.contracts.session_cancelled import SessionCancelled
from ttct.contracts.session_scheduled import SessionScheduled
from ttct.eventsourcing.consumer import Handler, batched
from ttct.http.app import build_app
from ttct.operations.runtime import Runtime
from ttct.privacy.personal import KeyRing

from assessment import figures
from assessment.adapters import evaluation_codes, evaluations, facts, row_security, schemes, views
from assessment.entrypoints import attendance, certificates, http, papers, results
from assessment.entrypoints import evaluations as evaluation_routes
from assessment.entrypoints import learner_record
from assessment.service_layer import eligibility, evaluation
from assessment.service_layer.handlers import Aggregated
from assessment.settings import AssessmentSettings


def projections(ring: KeyRing | None = None,
                recheck: eligibility.Recheck | None = None) -> dict[str, dict[type[DomainEvent], Handler]]:
    """The other services' events assessment keeps, by the context that publishes them (see adapters/facts.py
    for why each handler may see them in any order). `ring` opens the learners' sealed names; `recheck` checks
    eligibility again once a cancelled session is out of the facts, or the class's plan changed."""
    ring = ring or KeyRing()
    seats = batched(partial(facts.on_seats, ring))  # one handler for both: their runs join
    react = recheck or eligibility.Recheck()

    async def session_cancelled(conn, envelope, event: SessionCancelled) -> None:
        await facts.on_session_cancelled(conn, envelope, event)
        await react(conn, envelope, event)

    async def plan_changed(conn, envelope, event: ClassPlanChanged) -> None:
        await facts.on_class_plan_changed(conn, envelope, event)
        await react(conn, envelope, event)

    return {
        "scheduling": {ClassOpened: facts.on_class_opened, ClassCancelled: facts.on_class_cancelled,
                       SessionScheduled: facts.on_session_scheduled, SessionCancelled: session_cancelled,
                       ClassPlanChanged: plan_changed},
        "enrolment": {LearnerEnrolled: seats, LearnerWithdrawn: seats,
                      LearnerErased: partial(facts.on_learner_erased, ring), **centres.HANDLERS},
    }


PROJECTION_TABLES = (
    "class_sessions", "class_learners", *centres.TABLES,
    # A class's facts come again from scheduling's events, but for the scheme its first score pinned: assessment's
    # own decision (adapters/views.py), which a rebuild must not forget. Every facts handler is an upsert.
    "DELETE FROM class_facts WHERE pinned_scheme IS NULL",
    "UPDATE class_facts SET opened = false, cancelled = false, scheduled_total = NULL, scheduled_total_at = NULL",
)
"""What `python -m ttct.admin assessment rebuild` resets before it applies the streams again: the facts kept of
other services' events. Not the figures: their handlers are idempotent upserts, and assessment's own results feed
them too (`python -m assessment.figures rebuild` computes them again)."""

SCHEMA = [*facts.SCHEMA, *schemes.SCHEMA, *views.SCHEMA, *evaluations.SCHEMA, *evaluation_codes.SCHEMA,
          *figures.SCHEMA, *eligibility.SCHEMA, *row_security.SCHEMA]


def create_app(settings: AssessmentSettings) -> FastAPI:
    ring, recheck = KeyRing(), eligibility.Recheck()
    runtime = Runtime(settings, schema=SCHEMA, projections=figures.chained(projections(ring, recheck)),
                      keyring=ring, projection_tables=PROJECTION_TABLES)
    recheck.runtime = runtime

    def on_start(app: FastAPI, rt: Runtime) -> None:
        rt.store = figures.Projecting(rt.store)  # appends also project the figures of assessment's own events
        app.state.assessment = Aggregated.on(rt)
        app.state.evaluations = evaluation.aggregates(rt)

    return build_app(runtime, title="Assessment", on_start=on_start,
                     routers=[http.router, attendance.router, results.router, certificates.router, papers.router,
                              certificates.public, figures.router, evaluation_routes.router,
                              evaluation_routes.public, learner_record.router],
                     description="Attendance and eligibility, assessment schemes, scores and conduct, final results "
                                 "and certificates, per class; public certificate verification.")
