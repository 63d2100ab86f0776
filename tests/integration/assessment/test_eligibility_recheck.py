"""Eligibility checked again when a session is cancelled, on the real PostgreSQL and JetStream: the consumer of
scheduling's stream appends EligibilityRestored in its own transaction, and a cancellation applied again (a
rebuild) appends nothing more."""
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from assessment.adapters import facts
from assessment.bootstrap import projections
from assessment.service_layer.eligibility import Recheck
from nats.js.api import AckPolicy, ConsumerConfig
from ttct.contracts import Envelope, read_event
from ttct.contracts.eligibility_lost import EligibilityLost
from ttct.contracts.eligibility_restored import EligibilityRestored
from ttct.contracts.session_cancelled import SessionCancelled
from ttct.eventsourcing.consumer import ProjectionRunner
from ttct.eventsourcing.topology import ensure_stream
from ttct.privacy.personal import KeyRing, KeyVault

from tests.integration.assessment.test_assessment_consumer import (
    START,
    _known,
    consume,
    enrolled,
    envelopes,
    mark,
    opened,
    publish,
    scheduled,
)
from tests.integration.assessment.test_assessment_consumer import assessment as plain_assessment  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture
async def assessment(pool, nc, province, plain_assessment):  # noqa: F811
    """As test_assessment_consumer's, with scheduling's consumer reacting to cancellations as the service's does."""
    ring = KeyRing(KeyVault(pool))
    js = nc.jetstream()
    await ensure_stream(js, "scheduling")
    durable = f"assessment-recheck-{uuid.uuid4().hex[:8]}"
    await js.add_consumer("SCHEDULING", ConsumerConfig(durable_name=durable, filter_subject=f"ttct.{province}.>",
                                                       ack_policy=AckPolicy.EXPLICIT, ack_wait=5.0))
    recheck = Recheck(plain_assessment.service.runtime)
    plain_assessment.runners["scheduling"] = (
        ProjectionRunner(pool, durable, projections(ring, recheck)["scheduling"], prepare=ring.prefetch),
        await js.pull_subscribe_bind(durable, "SCHEDULING"))
    plain_assessment.recheck = recheck
    return plain_assessment


async def attendance_events(pool, class_id):
    rows = await pool.fetch("SELECT envelope FROM events WHERE stream_id = $1 ORDER BY stream_version",
                            f"assessment:attendance:{class_id}")
    return [(e, read_event(e)) for e in (Envelope.model_validate_json(r["envelope"]) for r in rows)]


async def test_a_cancelled_session_the_learner_missed_restores_eligibility_once(pool, assessment):
    a, class_id = assessment, uuid.uuid4()
    learner = enrolled(class_id, "Phạm Văn Cường")
    sessions = [scheduled(class_id, START + timedelta(days=i), i + 1) for i in range(5)]
    stream = envelopes(a, f"scheduling:class:{class_id}", [opened(class_id, planned_sessions=5), *sessions],
                       datetime(2026, 11, 20, 2, tzinfo=UTC))
    await publish(a.js, stream)
    await publish(a.js, envelopes(a, f"enrolment:roster:{class_id}", [learner], datetime(2026, 11, 25, tzinfo=UTC)))

    async def ready():
        found = await facts.class_facts(pool, "hau-loc", class_id)
        return found is not None and len(found.sessions) == 5

    await consume(a, "scheduling", ready)
    await consume(a, "enrolment", lambda: _known(pool, class_id))
    await mark(a, class_id, sessions[0], {learner: "absent"})
    await mark(a, class_id, sessions[1], {learner: "absent"})  # 2 of 5 = 40% > 20%
    assert [type(e) for _, e in await attendance_events(pool, class_id)][-1] is EligibilityLost

    [cancelled] = envelopes(a, f"scheduling:class:{class_id}", [SessionCancelled(
        class_id=class_id, session_id=sessions[1].session_id, scheduled_sessions=4, planned_sessions=5)],
        datetime(2026, 12, 1, 2, tzinfo=UTC), len(stream))
    await publish(a.js, [cancelled])

    async def restored():
        return any(isinstance(e, EligibilityRestored) for _, e in await attendance_events(pool, class_id))

    await consume(a, "scheduling", restored)
    envelope, event = (await attendance_events(pool, class_id))[-1]
    assert isinstance(event, EligibilityRestored) and event.learner_id == learner.learner_id
    assert (event.sessions_counted, event.absences) == (5, 1)
    assert envelope.causation_id == cancelled.event_id and envelope.correlation_id == cancelled.correlation_id
    assert await pool.fetchval("SELECT count(*) FROM outbox o JOIN events e USING (position)"
                               " WHERE e.event_id = $1", envelope.event_id) == 1  # published like any other
    assert not await pool.fetchval("SELECT count(*) FROM eligibility_lost WHERE class_id = $1", class_id)

    before = len(await attendance_events(pool, class_id))
    async with pool.acquire() as conn, conn.transaction():  # the cancellation applied again, as a rebuild would
        await a.recheck(conn, cancelled, read_event(cancelled))
    assert len(await attendance_events(pool, class_id)) == before
