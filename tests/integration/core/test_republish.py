"""`python -m ttct.admin <service> republish` refills a lost JetStream stream from the event store, and
publishing everything again changes no projection and sends no notice twice."""
import asyncio
from contextlib import AsyncExitStack

import nats
import pytest
from nats.js.api import StreamConfig
from nats_cluster import NatsCluster
from running_services import ORG, enrol_and_score, start_all
from ttct.admin import commands as admin

pytestmark = pytest.mark.integration


async def _on_stream(js, stream: str, province: str) -> list[str]:
    """The event ids the stream holds for this province."""
    sub = await js.pull_subscribe(f"ttct.{province}.>", stream=stream)
    ids = []
    try:
        while True:
            try:
                msgs = await sub.fetch(100, timeout=1)
            except TimeoutError:
                return ids
            for msg in msgs:
                ids.append(msg.headers["Nats-Msg-Id"])
                await msg.ack()
    finally:
        await sub.unsubscribe()


@pytest.fixture
async def own_nats(tmp_path):
    """A NATS server of this test's own: it loses a stream's messages, which the session's server must not."""
    server = await NatsCluster(tmp_path / "nats", size=1).start()
    try:
        yield server.url
    finally:
        server.stop()


async def _lose_messages(js, stream: str, province: str) -> None:
    """What a lost stream volume does: the messages are gone, and with them the memory of their ids."""
    config: StreamConfig = (await js.stream_info(stream)).config
    config.duplicate_window = 0.2
    await js.update_stream(config)
    await js.purge_stream(stream, subject=f"ttct.{province}.>")
    await asyncio.sleep(0.5)


async def test_republishing_everything_refills_a_lost_stream_and_changes_no_projection(
        admin_url, own_nats, province, tmp_path):
    async with AsyncExitStack() as stack:
        running = await start_all(stack, admin_url, own_nats, province, tmp_path)
        nc = await nats.connect(own_nats)
        stack.push_async_callback(nc.close)
        await enrol_and_score(running)
        await running.settled()
        notices = len(running.receiver.received[ORG])
        assert notices >= 4
        before = await running.snapshot()
        js = nc.jetstream()
        stored = [str(i) for i in await running.runtime("enrolment").pool.fetchval(
            "SELECT array_agg(event_id ORDER BY position) FROM events")]
        await _lose_messages(js, "ENROLMENT", province)
        assert await _on_stream(js, "ENROLMENT", province) == []

        for service in ("scheduling", "enrolment", "assessment"):
            assert "queued" in await admin.republish(running.runtime(service))
        await running.settled()
        assert await _on_stream(js, "ENROLMENT", province) == stored
        await asyncio.sleep(2)  # a notice sent again would arrive now
        after = await running.snapshot()
        assert {t for t in before if before[t] != after[t]} == set()
        assert len(running.receiver.received[ORG]) == notices
        assert before["notification.notices"] and before["enrolment.consumer_checkpoints"]


async def test_republishing_a_range_queues_only_those_positions(admin_url, nats_url, province, tmp_path):
    async with AsyncExitStack() as stack:
        running = await start_all(stack, admin_url, nats_url, province, tmp_path)
        await enrol_and_score(running, learners=1)
        await running.settled()
        rt = running.runtime("assessment")
        relay = rt.relay
        before = relay.published
        first, last = await rt.pool.fetchrow("SELECT min(position), max(position) FROM events")
        assert "queued 1 events" in await admin.republish(rt, first=last, last=last)
        await running.settled()
        assert relay.published == before + 1
        stream = await rt.pool.fetchval("SELECT stream_id FROM events WHERE position = $1", first)
        assert "queued" in await admin.republish(rt, streams=[stream])
        await running.settled()
