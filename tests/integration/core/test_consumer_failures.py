"""The projection runner when things go wrong, against real JetStream and PostgreSQL: an event this reader cannot
read yet, a database or key vault away for a while, two replicas on one stream, a predecessor that keeps failing."""
import asyncio
import contextlib
import copy
import json
import time
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest
from helpers import envelopes
from nats.js.api import AckPolicy, ConsumerConfig
from ttct.contracts import EVENTS, ClassOpened
from ttct.eventsourcing.consumer import ProjectionRunner, replay_parked
from ttct.eventsourcing.subscribers import Lease, PullConsumer
from ttct.eventsourcing.topology import ensure_stream
from ttct_dev.stack import database_url, ensure_databases

pytestmark = pytest.mark.integration


class ClassReopened(ClassOpened):
    """An event type a later release adds: unknown to the reader the tests start with."""

    event_type = "ClassReopened"
    schema_version = 1


@pytest.fixture
async def setup(pool, nc, province):
    await pool.execute("CREATE TABLE applied (event_id uuid, stream_id text, version int, title text, at serial)")
    js = nc.jetstream()
    await ensure_stream(js, "scheduling")
    durable = f"test-{uuid.uuid4().hex[:8]}"
    await js.add_consumer("SCHEDULING", ConsumerConfig(
        durable_name=durable, filter_subject=f"ttct.{province}.>", ack_policy=AckPolicy.EXPLICIT, ack_wait=10.0,
        max_deliver=-1))
    sub = await js.pull_subscribe_bind(durable, "SCHEDULING")
    yield js, sub, durable


async def record(conn, envelope, event):
    await conn.execute("INSERT INTO applied (event_id, stream_id, version, title) VALUES ($1, $2, $3, $4)",
                       envelope.event_id, envelope.stream_id, envelope.stream_version, event.title)


async def publish(js, envs, *, raw: dict | None = None) -> None:
    for env in envs:
        body = json.dumps(raw[env.event_id]).encode() if raw and env.event_id in raw else \
            env.model_dump_json().encode()
        await js.publish(env.subject, body, headers={"Nats-Msg-Id": str(env.event_id)})


async def drain(sub, runner, until, timeout=20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(TimeoutError):
            await runner.handle_batch(await sub.fetch(50, timeout=0.3))
        if await until():
            return
    raise AssertionError("condition not reached in time")


async def eventually(until, timeout=30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await until():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("condition not reached in time")


def newer(env, **changes) -> dict:
    """The envelope as a publisher upgraded before this reader sends it."""
    return {**json.loads(env.model_dump_json()), **changes}


async def test_an_event_from_a_newer_publisher_parks_its_stream_and_an_upgraded_reader_applies_it_in_order(
        pool, setup, province, monkeypatch):
    js, sub, durable = setup
    stream = f"scheduling:class:{uuid.uuid4()}"
    envs = envelopes(stream, 0, 5, province=province)
    # v2: an event type this reader does not know yet; v3: a schema version newer than its contract's;
    # v4: an envelope field added after this reader was released (the envelope refuses unknown fields)
    raw = {envs[1].event_id: newer(envs[1], event_type="ClassReopened", schema_version=1),
           envs[2].event_id: newer(envs[2], schema_version=7),
           envs[3].event_id: newer(envs[3], priority="high")}
    await publish(js, envs, raw=raw)
    runner = ProjectionRunner(pool, durable, {ClassOpened: record}, max_deliver=50)

    async def kept():
        return await pool.fetchval("SELECT count(*) FROM dead_letters") == 4

    await drain(sub, runner, kept)
    assert [r["version"] for r in await pool.fetch("SELECT version FROM applied ORDER BY at")] == [1]
    letters = await pool.fetch("SELECT id, stream_id, stream_version, event_id, error FROM dead_letters ORDER BY id")
    assert [(r["stream_id"], r["stream_version"]) for r in letters] == [(stream, v) for v in (2, 3, 4, 5)]
    assert [r["event_id"] for r in letters] == [e.event_id for e in envs[1:]]
    assert "ClassReopened" in letters[0]["error"] and letters[1]["error"].startswith("held")
    info = await js.consumer_info("SCHEDULING", durable)
    assert info.num_ack_pending == 0 and info.num_pending == 0  # nothing left redelivering behind the parked one

    # The reader is upgraded: it knows the new type, the new schema version and the new envelope field.
    monkeypatch.setitem(EVENTS, "ClassReopened", ClassReopened)
    monkeypatch.setattr(ClassOpened, "schema_version", 7)
    from ttct.contracts import UPCASTERS, Envelope
    for v in range(1, 7):
        monkeypatch.setitem(UPCASTERS, ("ClassOpened", v), lambda p: p)
    monkeypatch.setitem(Envelope.model_config, "extra", "ignore")
    Envelope.model_rebuild(force=True)
    try:
        handlers = {ClassOpened: record, ClassReopened: record}
        held = letters[1]["id"]
        async with pool.acquire() as conn, conn.transaction():
            assert "held behind dead letter" in await replay_parked(conn, held, lambda s: handlers)
        async with pool.acquire() as conn, conn.transaction():
            said = await replay_parked(conn, letters[0]["id"], lambda s: handlers)
        assert said.startswith("replayed ClassReopened") and "3 held" in said
        assert [r["version"] for r in await pool.fetch("SELECT version FROM applied ORDER BY at")] == [1, 2, 3, 4, 5]
        assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 0
        async with pool.acquire() as conn, conn.transaction():
            assert "no dead letter" in await replay_parked(conn, letters[0]["id"], lambda s: handlers)

        # the stream is not parked any more: its next event applies as it comes
        [sixth] = envelopes(stream, 5, province=province)
        await publish(js, [sixth])

        async def six():
            return await pool.fetchval("SELECT count(*) FROM applied") == 6

        await drain(sub, runner, six)
    finally:
        monkeypatch.undo()
        Envelope.model_rebuild(force=True)


async def test_a_handler_bug_parks_its_stream_and_a_fixed_replay_keeps_the_order(pool, setup, province):
    js, sub, durable = setup
    stream, other = f"scheduling:class:{uuid.uuid4()}", f"scheduling:class:{uuid.uuid4()}"
    envs, others = envelopes(stream, 0, 3, province=province), envelopes(other, 0, 2, province=province)
    await publish(js, [envs[0], others[0], envs[1], others[1], envs[2]])
    fixed = False

    async def buggy(conn, envelope, event):
        if envelope.stream_version == 2 and envelope.stream_id == stream and not fixed:
            raise RuntimeError("a bug in the projection")
        await record(conn, envelope, event)

    runner = ProjectionRunner(pool, durable, {ClassOpened: buggy}, max_deliver=2)

    async def settled():
        return (await pool.fetchval("SELECT count(*) FROM dead_letters") == 2
                and await pool.fetchval("SELECT count(*) FROM applied") == 3)

    await drain(sub, runner, settled)
    letters = await pool.fetch("SELECT id, stream_version, deliveries, error FROM dead_letters ORDER BY id")
    assert [r["stream_version"] for r in letters] == [2, 3] and letters[0]["deliveries"] == 2
    assert "a bug in the projection" in letters[0]["error"]
    assert await pool.fetchval("SELECT count(*) FROM consumer_failures") == 0
    fixed = True
    async with pool.acquire() as conn, conn.transaction():
        await replay_parked(conn, letters[0]["id"], lambda s: {ClassOpened: buggy})
    rows = await pool.fetch("SELECT version FROM applied WHERE stream_id = $1 ORDER BY at", stream)
    assert [r["version"] for r in rows] == [1, 2, 3]  # the old event is not applied after its successors


async def test_the_first_event_of_a_stream_is_applied_once_when_two_replicas_get_it_at_once(pool, setup, province):
    js, sub, durable = setup
    await publish(js, envelopes(f"scheduling:class:{uuid.uuid4()}", 0, province=province))
    msgs = await sub.fetch(1, timeout=5)

    async def slow(conn, envelope, event):
        await record(conn, envelope, event)
        await asyncio.sleep(0.5)  # both replicas are inside their transactions

    one, two = (ProjectionRunner(pool, durable, {ClassOpened: slow}) for _ in range(2))
    await asyncio.gather(one.handle_batch(msgs), two.handle_batch([copy.copy(m) for m in msgs]))
    assert await pool.fetchval("SELECT count(*) FROM applied") == 1


async def test_a_waiting_event_follows_its_failing_predecessors_backoff(pool, setup, province):
    js, sub, durable = setup
    envs = envelopes(f"scheduling:class:{uuid.uuid4()}", 0, 2, province=province)
    await publish(js, envs)
    failing_until = time.monotonic() + 6

    async def fails_thrice(conn, envelope, event):  # its first three retries, 0.5, 2 and 5 s apart, fail
        if envelope.stream_version == 1 and time.monotonic() < failing_until:
            raise RuntimeError("not yet")
        await record(conn, envelope, event)

    runner = ProjectionRunner(pool, durable, {ClassOpened: fails_thrice}, max_deliver=10)
    deliveries = []
    original = runner.handle_batch

    async def counting(msgs):
        deliveries.extend(m.metadata.num_delivered for m in msgs if m.data == envs[1].model_dump_json().encode())
        return await original(msgs)

    runner.handle_batch = counting

    async def both():
        return await pool.fetchval("SELECT count(*) FROM applied") == 2

    await drain(sub, runner, both, timeout=30)
    # its predecessor was retried after 0.5, 2 and 5 s: the successor came back with it, not every 0.5 s
    assert len(deliveries) <= 6, deliveries
    assert [r["version"] for r in await pool.fetch("SELECT version FROM applied ORDER BY at")] == [1, 2]
    # its failures were counted, and cleared when it applied (in the statement that saved its checkpoint)
    assert await pool.fetchval("SELECT count(*) FROM consumer_failures WHERE consumer = $1", durable) == 0


async def _refuse_connections(admin_url: str, name: str, refuse: bool) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if refuse else "true"}')
        if refuse:
            await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
    finally:
        await conn.close()


async def test_a_key_vault_and_database_away_for_a_while_dead_letter_nothing_and_everything_applies_after(
        pool, database, admin_url, setup, province):
    js, sub, durable = setup
    vault_name = f"test_vault_{uuid.uuid4().hex[:8]}"
    await ensure_databases(admin_url, [vault_name])
    vault = await asyncpg.create_pool(database_url(admin_url, vault_name), min_size=1, max_size=2)

    async def with_key(conn, envelope, event):  # a handler that opens personal data with the vault's keys
        await vault.fetchval("SELECT 1")
        await record(conn, envelope, event)

    runner = ProjectionRunner(pool, durable, {ClassOpened: with_key}, max_deliver=2)
    puller = PullConsumer(js, "SCHEDULING", durable, runner, batch_size=20, fetch_timeout=0.5)
    pulling = asyncio.create_task(puller.run())
    streams = [f"scheduling:class:{uuid.uuid4()}" for _ in range(3)]
    try:
        await _refuse_connections(admin_url, vault_name, True)
        await publish(js, [e for s in streams for e in envelopes(s, 0, 2, province=province)])
        await asyncio.sleep(6)  # the vault is away: every attempt fails
        database_name = urlsplit(database).path.lstrip("/")
        await _refuse_connections(admin_url, database_name, True)  # and then the database too
        await publish(js, [e for s in streams for e in envelopes(s, 2, 2, province=province)])
        await asyncio.sleep(4)
        await _refuse_connections(admin_url, vault_name, False)
        await _refuse_connections(admin_url, database_name, False)

        async def all_applied():
            return await pool.fetchval("SELECT count(*) FROM applied") == 12

        await eventually(all_applied, timeout=60)
    finally:
        puller.stop()
        await asyncio.wait_for(pulling, 20)
        await vault.close()
    assert await pool.fetchval("SELECT count(*) FROM dead_letters") == 0
    assert await pool.fetchval("SELECT count(*) FROM consumer_failures") == 0
    for stream in streams:
        rows = await pool.fetch("SELECT version FROM applied WHERE stream_id = $1 ORDER BY at", stream)
        assert [r["version"] for r in rows] == [1, 2, 3, 4]


async def test_two_replicas_on_one_durable_drain_a_backlog_promptly_in_order(pool, database, setup, province):
    js, sub, durable = setup
    streams = [f"scheduling:class:{uuid.uuid4()}" for _ in range(4)]
    await publish(js, [e for s in streams for e in envelopes(s, 0, 150, province=province)])
    replicas = []
    for _ in range(2):
        runner = ProjectionRunner(pool, durable, {ClassOpened: record})
        replicas.append(PullConsumer(js, "SCHEDULING", durable, runner, batch_size=50, fetch_timeout=0.5,
                                     lease=Lease(database, f"{durable}/SCHEDULING", retry=0.5)))
    started = time.monotonic()
    tasks = [asyncio.create_task(p.run()) for p in replicas]
    try:
        async def drained():
            return await pool.fetchval("SELECT count(*) FROM applied") == 600

        await eventually(drained, timeout=60)
        took = time.monotonic() - started
    finally:
        for p in replicas:
            p.stop()
        await asyncio.wait(tasks, timeout=20)
    assert took < 10, f"600 events took {took:.1f} s"
    for stream in streams:
        rows = await pool.fetch("SELECT version FROM applied WHERE stream_id = $1 ORDER BY at", stream)
        assert [r["version"] for r in rows] == list(range(1, 151))
