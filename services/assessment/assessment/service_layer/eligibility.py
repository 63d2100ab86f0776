"""Eligibility checked again when scheduling cancels a session of a class or the centre changes the class's plan
of sessions: with fewer sessions counted, a learner who had lost eligibility may be back within the threshold
(EligibilityRestored), or one whose absences now weigh more may lose it (EligibilityLost); with more, the reverse.

A reaction of the consumer, in its transaction: the attendance stream is read and appended to on the
consumer's connection, so the events appear exactly when the SessionCancelled (or ClassPlanChanged) is marked
applied. Each is reacted to once: `eligibility_rechecks` remembers it (and is not among the tables a rebuild
resets), so a replay or a rebuild appends nothing again.
"""
from __future__ import annotations

import asyncpg
from ttct.contracts import Envelope, EventMetadata, read_event
from ttct.contracts.class_plan_changed import ClassPlanChanged
from ttct.contracts.session_cancelled import SessionCancelled
from ttct.eventsourcing.eventstore import ConcurrencyConflict, EventStore, make_envelopes
from ttct.operations.runtime import Runtime

from assessment.adapters import facts as fx
from assessment.adapters import views
from assessment.domain import attendance as att
from assessment.figures.projection import Projecting

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS eligibility_rechecks (
        event_id   uuid PRIMARY KEY,
        class_id   uuid NOT NULL
    )
    """,
]
ATTEMPTS = 5


async def _attendance(conn: asyncpg.Connection, stream_id: str) -> tuple[att.Attendance, int]:
    state, version = att.Attendance(), 0
    for row in await conn.fetch("SELECT envelope FROM events WHERE stream_id = $1 ORDER BY stream_version",
                                stream_id):
        envelope = Envelope.model_validate_json(row["envelope"])
        state, version = att.evolve(state, read_event(envelope)), envelope.stream_version
    return state, version


class Recheck:
    """The consumer's handler of SessionCancelled and ClassPlanChanged, after the facts are updated. Its store, clock and ids are the
    service's runtime's (`runtime`, set once the runtime exists: the consumers start with it, before the app's
    on_start has run); without one (tools that only read the handlers' shape) it does nothing."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self.runtime = runtime

    def _store(self) -> EventStore:
        store = self.runtime.store
        # appends also project the figures of assessment's own events, as the app's store does
        return store if isinstance(store, Projecting) else Projecting(store)

    async def __call__(self, conn: asyncpg.Connection, envelope: Envelope,
                       event: SessionCancelled | ClassPlanChanged) -> None:
        if self.runtime is None:
            return
        first = await conn.fetchval("INSERT INTO eligibility_rechecks VALUES ($1, $2) ON CONFLICT DO NOTHING"
                                    " RETURNING event_id", envelope.event_id, event.class_id)
        if first is None:
            return
        centre, class_id = envelope.centre, event.class_id
        facts = await fx.class_facts(conn, centre, class_id)
        if facts is None:
            return  # the class was never opened here: nobody's attendance was recorded
        finalised = await conn.fetchval("SELECT true FROM finalised_classes WHERE class_id = $1", class_id) or False
        learners = await fx.learners(conn, centre, class_id)
        metadata = EventMetadata(province=envelope.province, centre=centre, correlation_id=envelope.correlation_id,
                                 causation_id=envelope.event_id, traceparent=envelope.traceparent,
                                 tracestate=envelope.tracestate)
        stream = att.stream_id(class_id)
        for _ in range(ATTEMPTS):
            state, version = await _attendance(conn, stream)
            events = att.decide_recheck(facts, learners, state, finalised=finalised)
            if not events:
                return
            envelopes = make_envelopes(stream, version, events, metadata, now=self.runtime.clock(),
                                       new_id=self.runtime.new_id)
            try:
                async with conn.transaction():  # a savepoint: a racing append undoes only this attempt
                    await self._store().append(envelopes, version, conn=conn)
                    await views.project(conn, envelopes)
                return
            except ConcurrencyConflict:
                continue
        raise ConcurrencyConflict(stream, version)
