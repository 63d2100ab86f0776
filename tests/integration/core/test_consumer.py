"""The projection runner against a real JetStream consumer: exactly-once effects, dead letters, order."""
import asyncio
import contextlib
import uuid

import pytest
from helpers import envelopes
from nats.js.api import AckPolicy, ConsumerConfig
from ttct.contracts import ClassOpened
from ttct.eventsourcing.consumer import ProjectionRunner
from ttct.eventsourcing.topology import ensure_stream

pytestmark = pytest.mark.integration


async def record(conn, envelope, event):
    await conn.execute("INSERT INTO applied (event_id, stream_id, version) VALUES ($1, $2, $3)",
                       envelope.event_id, envelope.stream_id, envelope.stream_version)


@pytest.fixture
async def setup(pool, nc, province):
    await pool.execute("CREATE TABLE applied (event_id uuid, stream_id text, version int, at serial)")
    js = nc.jetstream()
    await ensure_stream(js, "scheduling")
    durable = f"test-{uuid.uuid4().hex[:8]}"
    await js.add_consumer("SCHEDULING", ConsumerConfig(
        durable_name=durable, filter_subject=f"ttct.{province}.>", ack_policy=AckPolicy.EXPLICIT, ack_wait=1.0))
    sub = await js.pull_subscribe_bind(durable, "SCHEDULING")
    yield js, sub, durable


async def publish(js, envs, *, data: bytes | None = None, province: str = "") -> None:
    for env in envs:
        await js.publish(env.subject, env.model_dump_json().encode(), headers={"Nats-Msg-Id": str(env.event_id)})


async def drain(sub, runner, until, timeout=20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(TimeoutError):
            await runner.handle_batch(await sub.fetch(50, timeout=0.3))
        if await until():
            return
    raise AssertionError("condition not reached in time")


async def test_a_batch_redelivered_after_commit_but_before_ack_is_not_applied_twice(pool, setup, province):
    js, sub, durable = setup
    envs = envelopes("scheduling:class:k", 0, 3, province=province)
    await publish(js, envs)

    class KilledBeforeAck(ProjectionRunner):
        killed = False

        async def _settle(self, batch, outcomes):
            if not self.killed:
                self.killed = True
                raise asyncio.CancelledError  # the process dies between COMMIT and the acks
            await super()._settle(batch, outcomes)

    runner = KilledBeforeAck(pool, durable, {ClassOpened: record})
    with pytest.raises(asyncio.CancelledError):
        await runner.handle_batch(await sub.fetch(3, timeout=5))
    assert await pool.fetchval("SELECT count(*) FROM applied") == 3

    redelivered = await sub.fetch(3, timeout=5)  # after ack_wait, JetStream sends them again
    assert all(m.metadata.num_delivered == 2 for m in redelivered)
    await runner.handle_batch(redelivered)
    assert await pool.fetchval("SELECT count(*) FROM applied") == 3
    assert await pool.fetchval("SELECT stream_version FROM consumer_checkpoints WHERE consumer = $1", durable) == 3
    info = await js.consumer_info("SCHEDULING", durable)
    assert info.num_ack_pending == 0 and info.num_pending == 0


async def test_a_poison_message_is_dead_lettered_and_the_next_one_still_applied(pool, setup, province):
    js, sub, durable = setup
    poisoned, healthy = envelopes("scheduling:class:bad", 0, province=province), \
        envelopes("scheduling:class:good", 0, province=province)
    await js.publish(f"ttct.{province}.hau-loc.scheduling.ClassOpened", b"{not json",
                     headers={"Nats-Msg-Id": str(uuid.uuid4())})
    await publish(js, poisoned + healthy)

    async def fail_on_bad(conn, envelope, event):
        if envelope.stream_id.endswith(":bad"):
            raise RuntimeError("the projection cannot take this one")
        await record(conn, envelope, event)

    runner = ProjectionRunner(pool, durable, {ClassOpened: fail_on_bad}, max_deliver=2)

    async def settled():
        return await pool.fetchval("SELECT count(*) FROM dead_letters") == 2

    await drain(sub, runner, settled)
    assert [r["stream_id"] for r in await pool.fetch("SELECT stream_id FROM applied")] == ["scheduling:class:good"]
    letters = await pool.fetch("SELECT event_id, error, deliveries FROM dead_letters ORDER BY id")
    assert letters[0]["event_id"] is None and "ValidationError" in letters[0]["error"]
    assert letters[1]["event_id"] == poisoned[0].event_id and "cannot take this one" in letters[1]["error"]
    assert letters[1]["deliveries"] == 2
    info = await js.consumer_info("SCHEDULING", durable)
    assert info.num_ack_pending == 0


async def test_an_event_waits_for_its_predecessor_so_each_streams_order_holds(pool, setup, province):
    js, sub, durable = setup
    first, second = envelopes("scheduling:class:o", 0, 2, province=province)
    await publish(js, [second, first])  # arrives out of order
    runner = ProjectionRunner(pool, durable, {ClassOpened: record})

    async def both():
        return await pool.fetchval("SELECT count(*) FROM applied") == 2

    await drain(sub, runner, both)
    assert [r["version"] for r in await pool.fetch("SELECT version FROM applied ORDER BY at")] == [1, 2]
