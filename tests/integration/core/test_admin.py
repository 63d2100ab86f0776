"""The operator's commands, on a real service's runtime (enrolment's) and real NATS and PostgreSQL."""
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
