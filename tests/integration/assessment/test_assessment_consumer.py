"""Assessment's projections fed through real JetStream consumers, and its attendance rules on what they built:
classes and sessions from scheduling, learners from enrolment, in whatever order the two streams deliver them."""
import asyncio
import json
import contextlib
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from types import SimpleNamespace

import pytest
from assessment.adapters import facts
from assessment.bootstrap import SCHEMA, projections
from assessment.domain.attendance import Mark, RecordAttendance
from assessment.service_layer import handlers
from nats.js.api import AckPolicy, ConsumerConfig
from ttct.contracts import ClassOpened, EventMetadata, LearnerEnrolled, read_event
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.contracts.learner_withdrawn import LearnerWithdrawn
from ttct.contracts.session_cancelled import SessionCancelled
from ttct.contracts.session_scheduled import SessionScheduled
from ttct.domain.errors import Rejected
from ttct.eventsourcing.consumer import ProjectionRunner
from ttct.eventsourcing.eventstore import EventStore, make_envelopes
from ttct.eventsourcing.topology import ensure_stream
from ttct.operations.runtime import Runtime
from ttct.operations.schema import migrate
from ttct.operations.settings import ServiceSettings
from ttct.privacy.personal import KeyRing, KeyVault, legacy_sealed

pytestmark = pytest.mark.integration
ORG = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}
START = date(2026, 12, 1)
LOCAL_MORNING = time(2, 0)  # 09:00 in Vietnam


@pytest.fixture
async def assessment(pool, nc, province):
    """Assessment's schema on a fresh database, a durable of this test's own on each stream assessment reads
    (filtered to this test's province), and the service layer on the same database."""
    await migrate(pool, SCHEMA)
    ring = KeyRing(KeyVault(pool))  # the key vault on the test's database
    await ring.vault.migrate()
    js = nc.jetstream()
    runners = {}
    for context, stream in (("scheduling", "SCHEDULING"), ("enrolment", "ENROLMENT")):
        await ensure_stream(js, context)
        durable = f"assessment-test-{uuid.uuid4().hex[:8]}"
        await js.add_consumer(stream, ConsumerConfig(durable_name=durable, filter_subject=f"ttct.{province}.>",
                                                     ack_policy=AckPolicy.EXPLICIT, ack_wait=5.0))
        runners[context] = (ProjectionRunner(pool, durable, projections(ring)[context], prepare=ring.prefetch),
                            await js.pull_subscribe_bind(durable, stream))
    runtime = SimpleNamespace(pool=pool, store=EventStore(pool), clock=lambda: datetime.now(UTC), new_id=uuid.uuid4,
                              settings=ServiceSettings.model_construct())  # the defaults
    runtime.aggregates = partial(Runtime.aggregates, runtime)  # as the service builds them
    yield SimpleNamespace(js=js, runners=runners, service=handlers.Aggregated.on(runtime), province=province,
                          ring=ring)


async def publish(js, envelopes):
    for env in envelopes:
        await js.publish(env.subject, env.model_dump_json().encode(), headers={"Nats-Msg-Id": str(env.event_id)})


async def consume(a, context, until, timeout=20.0):
    runner, sub = a.runners[context]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(TimeoutError):
            await runner.handle_batch(await sub.fetch(100, timeout=0.3))
        if await until():
            return
    raise AssertionError("condition not reached in time")


def envelopes(a, stream, events, at: datetime, expected=0):
    meta = EventMetadata(province=a.province, centre="hau-loc", correlation_id=uuid.uuid4())
    return make_envelopes(stream, expected, events, meta, now=at, new_id=uuid.uuid4)


def enrolled(class_id, name):
    learner_id = uuid.uuid4()
    return LearnerEnrolled(class_id=class_id, class_title="Lớp Sơ cấp LLCT khóa 2", learner_id=learner_id,
                           personal=legacy_sealed(learner_id, name, date(1990, 5, 17)), sending_organisation=ORG,
                           seat_number=1)


def scheduled(class_id, day: date, n: int):
    return SessionScheduled(class_id=class_id, session_id=uuid.uuid4(), session_date=day, starts_at=time(7, 30),
                            ends_at=time(11), topic="Chủ nghĩa Mác - Lênin", venue="Hội trường",
                            lecturer_id=uuid.uuid4(), lecturer_name="Lê Văn Giảng", scheduled_sessions=n,
                            planned_sessions=n)


def opened(class_id, **kw):
    return ClassOpened(class_id=class_id, programme_type="so_cap_llct", title="Lớp Sơ cấp LLCT khóa 2", capacity=30,
                       starts_on=START, ends_on=START + timedelta(days=20), venue="Hội trường", **kw)


async def lost_events(pool, class_id):
    rows = await pool.fetch("SELECT envelope FROM events WHERE event_type = 'EligibilityLost'"
                            " AND stream_id = $1 ORDER BY position", f"assessment:attendance:{class_id}")
    from ttct.contracts import Envelope
    return [read_event(Envelope.model_validate_json(r["envelope"])) for r in rows]


async def mark(a, class_id, session, statuses):
    command = RecordAttendance(marks=[Mark(learner_id=l.learner_id, status=s) for l, s in statuses.items()])
    meta = EventMetadata(province=a.province, centre="hau-loc", correlation_id=uuid.uuid4())
    await handlers.record_attendance(a.service, "hau-loc", class_id, session.session_id, command, meta)


async def test_sessions_and_learners_from_both_streams_decide_eligibility_counted_from_each_enrolment(pool, assessment):
    a, class_id = assessment, uuid.uuid4()
    early, late = enrolled(class_id, "Lê Thị Bình"), enrolled(class_id, "Trần Văn An")
    # enrolment's stream arrives first: learners are known, the class is not, so nothing can be recorded yet
    await publish(a.js, envelopes(a, f"enrolment:roster:{class_id}", [early], datetime(2026, 11, 30, 2, tzinfo=UTC))
                  + envelopes(a, f"enrolment:roster:{class_id}", [late], datetime(2026, 12, 6, 2, tzinfo=UTC), 1))

    async def learners_known():
        return len(await facts.learners(pool, "hau-loc", class_id)) == 2

    await consume(a, "enrolment", learners_known)
    assert (await facts.learners(pool, "hau-loc", class_id))[late.learner_id].enrolled_on == date(2026, 12, 6)

    sessions = [scheduled(class_id, START + timedelta(days=i), i + 1) for i in range(10)]  # 1..10 December
    stream = envelopes(a, f"scheduling:class:{class_id}", [opened(class_id), *sessions],
                       datetime(2026, 11, 20, 2, tzinfo=UTC))
    await publish(a.js, list(reversed(stream)))  # out of order: each waits for its predecessor

    async def sessions_known():
        found = await facts.class_facts(pool, "hau-loc", class_id)
        return found is not None and found.opened and len(found.sessions) == 10

    await consume(a, "scheduling", sessions_known)
    known = await facts.class_facts(pool, "hau-loc", class_id)
    assert (known.planned_total, known.max_absence_ratio) == (10, Decimal("0.2"))

    # the early learner: 10 sessions, the 3rd absence is the one that cannot be made up for
    for i in range(2):
        await mark(a, class_id, sessions[i], {early: "absent", late: "absent"})  # before the late one enrolled
    assert await lost_events(pool, class_id) == []
    await mark(a, class_id, sessions[2], {early: "absent", late: "absent"})
    [lost] = await lost_events(pool, class_id)
    assert (lost.learner_id, lost.sessions_counted, lost.absences) == (early.learner_id, 10, 3)
    assert lost.sending_organisation.code == "xa-hoa-loc" and lost.class_title == "Lớp Sơ cấp LLCT khóa 2"

    # the late learner enrolled on 6 December: 5 sessions count for them, absences before it never do
    await mark(a, class_id, sessions[5], {early: "present", late: "absent"})
    assert len(await lost_events(pool, class_id)) == 1
    await mark(a, class_id, sessions[6], {early: "absent", late: "absent"})
    first, second = await lost_events(pool, class_id)
    assert (second.learner_id, second.sessions_counted, second.absences) == (late.learner_id, 5, 2)
    assert first.learner_id == early.learner_id  # told once, though absent again


async def test_a_cancelled_session_stops_counting_and_a_cancelled_class_refuses_attendance(pool, assessment):
    a, class_id = assessment, uuid.uuid4()
    learner = enrolled(class_id, "Phạm Văn Cường")
    sessions = [scheduled(class_id, START + timedelta(days=i), i + 1) for i in range(5)]
    # a programme without a plan of its own: the class's plan is the sessions scheduled, one fewer once cancelled
    cancelled = SessionCancelled(class_id=class_id, session_id=sessions[4].session_id, scheduled_sessions=4,
                                 planned_sessions=4)
    stream = envelopes(a, f"scheduling:class:{class_id}", [opened(class_id), *sessions, cancelled],
                       datetime(2026, 11, 20, 2, tzinfo=UTC))
    await publish(a.js, stream)
    await publish(a.js, envelopes(a, f"enrolment:roster:{class_id}", [learner], datetime(2026, 11, 25, tzinfo=UTC)))

    async def ready():
        found = await facts.class_facts(pool, "hau-loc", class_id)
        return found is not None and len(found.sessions) == 4 and found.scheduled_total == 4

    await consume(a, "scheduling", ready)
    await consume(a, "enrolment", lambda: _known(pool, class_id))
    with pytest.raises(Rejected) as refused:
        await mark(a, class_id, sessions[4], {learner: "present"})
    assert refused.value.code == "session-cancelled"
    await mark(a, class_id, sessions[0], {learner: "absent"})  # 1 of 4 = 25% > 20%
    [lost] = await lost_events(pool, class_id)
    assert (lost.sessions_counted, lost.absences) == (4, 1)

    await publish(a.js, envelopes(a, f"scheduling:class:{class_id}", [ClassCancelled(
        class_id=class_id, class_title="Lớp Sơ cấp LLCT khóa 2", reason="Trùng lịch đại hội")],
        datetime(2026, 12, 2, tzinfo=UTC), len(stream)))

    async def cancelled_known():
        return (await facts.class_facts(pool, "hau-loc", class_id)).cancelled

    await consume(a, "scheduling", cancelled_known)
    with pytest.raises(Rejected) as refused:
        await mark(a, class_id, sessions[1], {learner: "present"})
    assert refused.value.code == "class-cancelled"


async def _known(pool, class_id):
    return bool(await facts.learners(pool, "hau-loc", class_id))


async def test_the_fact_handlers_do_not_depend_on_the_order_events_arrive_in(pool, assessment):
    """Events of different streams can overtake each other: each handler is an upsert that never undoes a later
    fact, so applying them in either order leaves the same facts."""
    a = assessment
    for order in ("forward", "reverse"):
        class_id = uuid.uuid4()
        learner = enrolled(class_id, "Hoàng Thị Lan")
        session = scheduled(class_id, START, 1)
        steps = [
            (facts.on_class_opened, envelopes(a, f"scheduling:class:{class_id}", [opened(class_id)],
                                              datetime(2026, 11, 20, tzinfo=UTC))[0], opened(class_id)),
            (facts.on_session_scheduled, envelopes(a, f"scheduling:session:{session.session_id}", [session],
                                                   datetime(2026, 11, 21, tzinfo=UTC))[0], session),
            (facts.on_session_cancelled, envelopes(a, f"scheduling:session:{session.session_id}", [SessionCancelled(
                class_id=class_id, session_id=session.session_id, scheduled_sessions=0, planned_sessions=0)],
                datetime(2026, 11, 22, tzinfo=UTC), 1)[0], None),
            (facts.on_class_cancelled, envelopes(a, f"scheduling:class:{class_id}", [ClassCancelled(
                class_id=class_id, class_title="Lớp", reason="Hủy")], datetime(2026, 11, 23, tzinfo=UTC), 1)[0], None),
            (partial(facts.on_learner_enrolled, a.ring), envelopes(a, f"enrolment:roster:{class_id}", [learner],
                                                  datetime(2026, 11, 24, tzinfo=UTC))[0], learner),
        ]
        if order == "reverse":
            steps.reverse()
        async with pool.acquire() as conn:
            for handler, env, event in steps:
                await handler(conn, env, event or read_event(env))
        found = await facts.class_facts(pool, "hau-loc", class_id)
        assert (found.opened, found.cancelled, found.title, found.sessions, found.scheduled_total) == (
            True, True, "Lớp Sơ cấp LLCT khóa 2", (), 0), order
        assert found.cancelled_sessions == {session.session_id}
        assert list(await facts.learners(pool, "hau-loc", class_id)) == [learner.learner_id]


async def test_a_withdrawal_that_overtakes_its_enrolment_is_not_undone_and_a_re_enrolment_counts_from_its_day(
        pool, assessment):
    a, class_id = assessment, uuid.uuid4()
    learner = enrolled(class_id, "Đỗ Minh Sơn")
    withdrawn = LearnerWithdrawn(class_id=class_id, class_title=learner.class_title, learner_id=learner.learner_id,
                                 personal=learner.personal, sending_organisation=ORG, reason="transferred")
    stream = f"enrolment:roster:{class_id}"
    enrol_env = envelopes(a, stream, [learner], datetime(2026, 11, 25, 2, tzinfo=UTC))[0]
    withdraw_env = envelopes(a, stream, [withdrawn], datetime(2026, 11, 28, 2, tzinfo=UTC), 1)[0]
    async with pool.acquire() as conn:
        await facts.on_learner_withdrawn(a.ring, conn, withdraw_env, withdrawn)
        await facts.on_learner_enrolled(a.ring, conn, enrol_env, learner)  # arrives late: the withdrawal still holds
    assert await facts.learners(pool, "hau-loc", class_id) == {}
    assert await facts.learner_in_class(pool, "hau-loc", class_id, learner.learner_id) is None

    [back] = envelopes(a, stream, [learner], datetime(2026, 12, 3, 2, tzinfo=UTC), 2)
    async with pool.acquire() as conn:
        await facts.on_learner_enrolled(a.ring, conn, back, learner)
    again = await facts.learner_in_class(pool, "hau-loc", class_id, learner.learner_id)
    assert again is not None and again.enrolled_on == date(2026, 12, 3)


async def test_a_run_of_enrolments_and_withdrawals_applied_at_once_leaves_what_one_by_one_leaves(pool, assessment):
    """The consumer hands runs of LearnerEnrolled / LearnerWithdrawn to one batched handler (one statement per
    round); rows touched twice in a run still end as the events applied one by one would leave them."""
    a = assessment
    results = []
    for mode in ("one by one", "as one run"):
        class_id = uuid.uuid4()
        stream = f"enrolment:roster:{class_id}"
        stays, leaves, returns = (enrolled(class_id, n) for n in ("Vũ Thị Hoa", "Ngô Văn Tài", "Lý Thị Mến"))

        def left(who):
            return LearnerWithdrawn(class_id=class_id, class_title=who.class_title, learner_id=who.learner_id,
                                    personal=who.personal, sending_organisation=ORG, reason="transferred")

        stays = stays.model_copy(update={"profile": legacy_sealed(stays.learner_id, "Bí thư Chi bộ")})
        events = [stays, leaves, returns, left(leaves), left(returns), returns]
        days = [datetime(2026, 11, 25 + i, 2, tzinfo=UTC) for i in range(len(events))]
        envs = [envelopes(a, stream, [e], at, i)[0] for i, (e, at) in enumerate(zip(events, days))]
        async with pool.acquire() as conn:
            if mode == "one by one":
                for env, event in zip(envs, events):
                    handler = facts.on_learner_enrolled if isinstance(event, LearnerEnrolled) \
                        else facts.on_learner_withdrawn
                    await handler(a.ring, conn, env, event)
            else:
                await facts.on_seats(a.ring, conn, list(zip(envs, events)))
        learners = await facts.learners(pool, "hau-loc", class_id)
        back = await facts.learner_in_class(pool, "hau-loc", class_id, returns.learner_id)
        # every column of every row, the ids (new in each mode) replaced by who the row is
        who = {stays.learner_id: "stays", leaves.learner_id: "leaves", returns.learner_id: "returns"}
        rows = [{**dict(r), "class_id": None, "learner_id": who[r["learner_id"]],
                 "personal": json.loads(r["personal"]) | {"learner_id": who[r["learner_id"]]},
                 "profile": r["profile"] and json.loads(r["profile"]) | {"learner_id": who[r["learner_id"]]}}
                for r in await pool.fetch("SELECT * FROM class_learners WHERE class_id = $1 ORDER BY full_name",
                                          class_id)]
        results.append((sorted(str(k) for k in learners) == sorted([str(stays.learner_id), str(returns.learner_id)]),
                        back.enrolled_on, await facts.learner_in_class(pool, "hau-loc", class_id, leaves.learner_id),
                        rows))
    assert results[0] == results[1]
    assert results[0][:3] == (True, date(2026, 11, 30), None)
    assert [(r["learner_id"], r["full_name"], r["withdrawn"], r["profile"] is not None) for r in results[0][3]] == [
        ("returns", "Lý Thị Mến", False, False), ("leaves", "Ngô Văn Tài", True, False),
        ("stays", "Vũ Thị Hoa", False, True)]
