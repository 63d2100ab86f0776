"""The outbox relay never skips an event whose transaction commits after a later-numbered one, never
publishes a rolled-back one, and keeps the order of each stream."""
import asyncio
import contextlib
import json
import random

import pytest
from helpers import envelopes
from ttct.eventsourcing.eventstore import ConcurrencyConflict, EventStore
from ttct.eventsourcing.outbox import OutboxRelay
from ttct.eventsourcing.topology import ensure_stream

pytestmark = pytest.mark.integration


class Rollback(Exception):
    pass


async def published(nc, province: str, expected: int, timeout: float = 20.0) -> list[dict]:
    """Every event published for `province`, in JetStream order, once `expected` have arrived."""
    js = nc.jetstream()
    sub = await js.pull_subscribe(f"ttct.{province}.>", stream="SCHEDULING")
    seen: list[dict] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(TimeoutError):
            for msg in await sub.fetch(100, timeout=0.3):
                seen.append(json.loads(msg.data))
                await msg.ack()
        if len(seen) >= expected:
            with contextlib.suppress(TimeoutError):  # anything extra (a duplicate) would show up now
                seen += [json.loads(m.data) for m in await sub.fetch(100, timeout=0.5)]
            break
    await sub.unsubscribe()
    return seen


@pytest.fixture
async def relay(pool, nc):
    js = nc.jetstream()
    await ensure_stream(js, "scheduling")
    relay = OutboxRelay(pool, js, batch_size=7, poll_interval=0.02)
    task = asyncio.create_task(relay.run())
    yield relay
    task.cancel()
    await asyncio.wait([task], timeout=5)  # a cancel can be swallowed inside a library's wait_for on 3.11


async def test_an_event_committed_after_a_later_numbered_one_is_still_published(pool, nc, relay, province):
    store = EventStore(pool, on_append=relay.wake)
    slow, fast, doomed = (envelopes(f"scheduling:class:{n}", 0, province=province) for n in ("slow", "fast", "doomed"))
    release = asyncio.Event()
    appended = asyncio.Event()

    async def slow_transaction():
        async with store.transaction() as conn:
            await store.append(slow, 0, conn=conn)
            appended.set()
            await release.wait()

    async def rolled_back():
        with contextlib.suppress(Rollback):
            async with store.transaction() as conn:
                await store.append(doomed, 0, conn=conn)
                raise Rollback

    slow_task = asyncio.create_task(slow_transaction())
    await appended.wait()  # the slow transaction holds the lower position, uncommitted
    await rolled_back()
    await store.append(fast, 0)  # a higher position, committed first
    for _ in range(200):
        if relay.published >= 1:
            break
        await asyncio.sleep(0.02)
    assert relay.published == 1  # the fast one went out; the slow one is not visible yet
    release.set()
    await slow_task

    events = await published(nc, province, expected=2)
    assert [e["event_id"] for e in events] == [str(fast[0].event_id), str(slow[0].event_id)]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_concurrent_slow_and_rolled_back_writers_lose_nothing_and_keep_each_streams_order(
        pool, nc, relay, province):
    store = EventStore(pool, on_append=relay.wake)
    streams = [f"scheduling:class:{province}-{i}" for i in range(5)]
    rng = random.Random(7)

    async def writer(n: int) -> None:
        for _ in range(10):
            stream = rng.choice(streams)
            while True:
                version = await store.version(stream)
                batch = envelopes(stream, version, rng.randint(1, 3), province=province)
                try:
                    async with store.transaction() as conn:
                        await store.append(batch, version, conn=conn)
                        await asyncio.sleep(rng.uniform(0, 0.02))  # slow commits interleave with others
                        if rng.random() < 0.2:
                            raise Rollback
                    break
                except Rollback:
                    break
                except ConcurrencyConflict:
                    continue

    await asyncio.gather(*(writer(n) for n in range(20)))
    committed = {str(r["event_id"]): (r["stream_id"], r["stream_version"]) for r in await pool.fetch(
        "SELECT event_id, stream_id, stream_version FROM events WHERE stream_id = ANY($1::text[])", streams)}
    assert len(committed) > 100

    events = await published(nc, province, expected=len(committed))
    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids)), "an event was published twice"
    assert set(ids) == set(committed), "published events differ from committed ones"
    for stream in streams:
        versions = [e["stream_version"] for e in events if e["stream_id"] == stream]
        assert versions == sorted(versions) == list(range(1, len(versions) + 1))
