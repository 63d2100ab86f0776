"""The operator's commands, on a real service's runtime (enrolment's) and real NATS and PostgreSQL."""
import asyncio
import uuid

import asyncpg
import pytest
from enrolment.bootstrap import create_app
from enrolment.settings import EnrolmentSettings
from helpers import envelopes
from ttct.admin import commands as admin
from ttct.eventsourcing.topology import consumer_config, ensure_stream
from ttct.operations.schema import migrate

pytestmark = pytest.mark.integration


@pytest.fixture
async def runtime(database, nats_url, province, tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("unused")
    settings = EnrolmentSettings(database_url=database, nats_url=nats_url, province_code=province,
                                 auth_public_key_file=str(key))
    rt = create_app(settings).state.runtime
    pool = await asyncpg.create_pool(database, min_size=1, max_size=2)
    await migrate(pool, rt.schema)
    await pool.close()
    return rt


async def test_a_dead_letter_is_replayed_with_todays_handler_and_removed(runtime, database):
    [env] = envelopes(f"scheduling:class:{uuid.uuid4()}", 0)
    conn = await asyncpg.connect(database)
    letter = await conn.fetchval(
        "INSERT INTO dead_letters (consumer, subject, event_id, stream_id, stream_version, deliveries, error, body)"
        " VALUES ('enrolment-x', $1, $2, $3, 1, 5, 'RuntimeError: bug', $4) RETURNING id",
        env.subject, env.event_id, env.stream_id, env.model_dump_json().encode())
    listed = await admin.dead_letters(runtime)
    assert [d["id"] for d in listed] == [letter] and listed[0]["error"] == "RuntimeError: bug"

    assert "replayed ClassOpened" in await admin.replay(runtime, letter)
    assert await conn.fetchval("SELECT title FROM classes WHERE class_id = $1",
                               uuid.UUID(env.payload["class_id"])) == env.payload["title"]
    assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 0
    assert "no dead letter" in await admin.replay(runtime, letter)
    await conn.close()


async def test_a_rebuild_empties_the_projection_and_the_stream_fills_it_again(runtime, database, nc, province):
    js = nc.jetstream()
    await ensure_stream(js, "scheduling")
    config = consumer_config("enrolment", "scheduling", province)
    await js.add_consumer("SCHEDULING", config)
    env = envelopes(f"scheduling:class:{uuid.uuid4()}", 0, province=province)[0]
    await js.publish(env.subject, env.model_dump_json().encode(), headers={"Nats-Msg-Id": str(env.event_id)})
    conn = await asyncpg.connect(database)
    await conn.execute("INSERT INTO classes (class_id, centre, title, capacity, starts_on, ends_on)"
                       " VALUES ($1, 'hau-loc', 'stale row', 1, '2026-01-01', '2026-01-02')", uuid.uuid4())
    assert "rebuilt classes from the streams: 1 applied" in await admin.rebuild(runtime)
    # in the one transaction: the stale row is gone and the stream's class is there again, with its checkpoint
    assert [r["title"] for r in await conn.fetch("SELECT title FROM classes")] == [env.payload["title"]]
    assert await conn.fetchval("SELECT stream_version FROM consumer_checkpoints WHERE stream_id = $1",
                               env.stream_id) == 1
    await conn.close()


async def test_the_access_report_lists_each_learner_a_leaked_credential_saw_in_the_window(runtime, database):
    from datetime import UTC, datetime, timedelta

    seen, other, before = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    conn = await asyncpg.connect(database)
    try:
        await conn.execute("SELECT set_config('ttct.scope', 'all', false)")
        rows = [(now - timedelta(hours=2), "hau-loc", "leaked-client", [seen, other]),
                (now - timedelta(hours=1), "nga-son", "leaked-client", [seen]),
                (now - timedelta(hours=1), "hau-loc", "staff-lan", [other]),
                (now - timedelta(days=3), "hau-loc", "leaked-client", [before])]
        for at, centre, caller, learners in rows:
            await conn.execute(
                "INSERT INTO personal_data_access (at, centre, caller, role, action, route, learner_ids)"
                " VALUES ($1, $2, $3, 'integration', 'read', 'GET /v1/centres/{centre}/classes', $4::uuid[])",
                at, centre, caller, learners)
    finally:
        await conn.close()
    report = await admin.access_report(runtime, now - timedelta(days=1), caller="leaked-client")
    assert {r["learner_id"] for r in report} == {seen, other}  # not the one seen before the window
    by_learner = {r["learner_id"]: r for r in report}
    assert by_learner[seen]["accesses"] == 2 and sorted(by_learner[seen]["centres"]) == ["hau-loc", "nga-son"]
    assert by_learner[other]["callers"] == ["leaked-client"]  # staff's own reads are not the leak's
    everyone = await admin.access_report(runtime, now - timedelta(days=1))
    assert sorted(everyone_row["accesses"] for everyone_row in everyone) == [2, 2]


async def _publish(js, envs):
    for env in envs:
        await js.publish(env.subject, env.model_dump_json().encode(), headers={"Nats-Msg-Id": str(env.event_id)})


async def _parked_at_first(conn, env, consumer):
    """What the consumer leaves when a stream's first event fails for good: its dead letter, the stream parked."""
    letter = await conn.fetchval(
        "INSERT INTO dead_letters (consumer, subject, event_id, stream_id, stream_version, deliveries, error, body)"
        " VALUES ($1, $2, $3, $4, 1, 5, 'RuntimeError: bug', $5) RETURNING id",
        consumer, env.subject, env.event_id, env.stream_id, env.model_dump_json().encode())
    await conn.execute("INSERT INTO consumer_checkpoints (consumer, stream_id, stream_version, held_to)"
                       " VALUES ($1, $2, 0, 1)", consumer, env.stream_id)
    return letter


async def test_a_replay_after_a_rebuild_does_not_apply_the_old_event_again(runtime, database, nc, province):
    js = nc.jetstream()
    await ensure_stream(js, "scheduling")
    consumer = consumer_config("enrolment", "scheduling", province).durable_name
    first, renamed = envelopes(f"scheduling:class:{uuid.uuid4()}", 0, 2, province=province)
    await _publish(js, [first, renamed])
    conn = await asyncpg.connect(database)
    letter = await _parked_at_first(conn, first, consumer)
    await admin.rebuild(runtime)  # the fixed handler applies both events from the stream
    assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 0
    assert "no dead letter" in await admin.replay(runtime, letter)
    assert await conn.fetchval("SELECT stream_version FROM consumer_checkpoints WHERE stream_id = $1",
                               first.stream_id) == 2
    assert sorted(r["title"] for r in await conn.fetch("SELECT title FROM classes")) == \
        sorted([first.payload["title"], renamed.payload["title"]])
    await conn.close()


async def test_a_replay_never_applies_an_event_behind_its_streams_checkpoint(runtime, database):
    first, renamed = envelopes(f"scheduling:class:{uuid.uuid4()}", 0, 2)
    conn = await asyncpg.connect(database)
    letter = await conn.fetchval(
        "INSERT INTO dead_letters (consumer, subject, event_id, stream_id, stream_version, deliveries, error, body)"
        " VALUES ('enrolment-x', $1, $2, $3, 1, 5, 'RuntimeError: bug', $4) RETURNING id",
        first.subject, first.event_id, first.stream_id, first.model_dump_json().encode())
    await conn.execute("INSERT INTO consumer_checkpoints (consumer, stream_id, stream_version, event_id)"
                       " VALUES ('enrolment-x', $1, 2, $2)", renamed.stream_id, renamed.event_id)
    assert "behind its stream" in await admin.replay(runtime, letter)
    assert await conn.fetchval("SELECT count(*) FROM classes") == 0
    assert "discarded" in await admin.skip(runtime, letter)
    assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 0
    await conn.close()


async def test_readers_never_see_a_rebuild_half_done(runtime, database, nc, province):
    js = nc.jetstream()
    await ensure_stream(js, "scheduling")
    await _publish(js, [e for _ in range(300) for e in envelopes(f"scheduling:class:{uuid.uuid4()}", 0,
                                                                  province=province)])
    await admin.rebuild(runtime)
    reader = await asyncpg.connect(database)
    assert await reader.fetchval("SELECT count(*) FROM classes") == 300
    seen: list[int] = []
    rebuilding = asyncio.create_task(admin.rebuild(runtime))
    while not rebuilding.done():
        seen.append(await reader.fetchval("SELECT count(*) FROM classes"))
        await asyncio.sleep(0.01)
    assert "300 applied" in await rebuilding
    seen.append(await reader.fetchval("SELECT count(*) FROM classes"))
    assert set(seen) == {300}, sorted(set(seen))
    await reader.close()


@pytest.fixture
async def assessment_runtime(database, nats_url, province, tmp_path):
    from assessment.bootstrap import create_app as create_assessment
    from assessment.settings import AssessmentSettings

    key = tmp_path / "key.pem"
    key.write_text("unused")
    settings = AssessmentSettings(database_url=database, nats_url=nats_url, province_code=province,
                                  auth_public_key_file=str(key))
    rt = create_assessment(settings).state.runtime
    pool = await asyncpg.create_pool(database, min_size=1, max_size=2)
    await migrate(pool, rt.schema)
    await pool.close()
    yield rt
    if rt.vault is not None:
        await rt.vault.close()


def _enrolled(class_id, province):
    from datetime import UTC, datetime

    from ttct.contracts import EventMetadata, LearnerEnrolled
    from ttct.eventsourcing.eventstore import make_envelopes
    from ttct.privacy.personal import legacy_sealed

    learner = uuid.uuid4()
    event = LearnerEnrolled(class_id=class_id, class_title="Lớp Sơ cấp", learner_id=learner,
                            personal=legacy_sealed(learner, "Nguyễn Văn An"),
                            sending_organisation={"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"},
                            seat_number=1)
    meta = EventMetadata(province=province, centre="hau-loc", correlation_id=uuid.uuid4())
    return make_envelopes(f"enrolment:roster:{class_id}", 0, [event], meta, now=datetime.now(UTC), new_id=uuid.uuid4)


async def test_assessments_batched_enrolment_handler_is_replayed(assessment_runtime, database, province):
    [env] = _enrolled(uuid.uuid4(), province)
    conn = await asyncpg.connect(database)
    letter = await _parked_at_first(conn, env, "assessment-x")
    assert "replayed LearnerEnrolled" in await admin.replay(assessment_runtime, letter)
    assert await conn.fetchval("SELECT full_name FROM class_learners") == "Nguyễn Văn An"
    await conn.close()


async def test_an_assessment_rebuild_resets_what_it_keeps_of_other_services_events(assessment_runtime, database,
                                                                                       nc):
    for context in ("scheduling", "enrolment"):
        await ensure_stream(nc.jetstream(), context)
    conn = await asyncpg.connect(database)
    pinned, stale = uuid.uuid4(), uuid.uuid4()
    await conn.execute("INSERT INTO class_facts (class_id, centre, opened, pinned_scheme) VALUES ($1, 'hau-loc', true,"
                       " 'v1'), ($2, 'hau-loc', true, NULL)", pinned, stale)
    await conn.execute("INSERT INTO class_learners (class_id, learner_id, centre, class_title, full_name,"
                       " organisation_code, organisation_name) VALUES ($1, $2, 'hau-loc', 'x', 'y', 'o', 'p')",
                       stale, uuid.uuid4())
    await admin.rebuild(assessment_runtime)  # the streams hold nothing of this province
    assert await conn.fetchval("SELECT count(*) FROM class_learners") == 0
    assert [tuple(r) for r in await conn.fetch("SELECT class_id, opened, pinned_scheme FROM class_facts")] == \
        [(pinned, False, "v1")]  # the scheme its scores were graded with stays pinned
    await conn.close()
