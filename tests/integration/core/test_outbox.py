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


async def _lock_holders(pool) -> list[int]:
    """The backends holding the relay's advisory lock."""
    return [r["pid"] for r in await pool.fetch(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = 7243002"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")]


async def _eventually(condition, timeout: float = 20.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.fixture
async def two_relays(pool, nc):
    js = nc.jetstream()
    await ensure_stream(js, "scheduling")
    relays = [OutboxRelay(pool, js, batch_size=7, poll_interval=0.02) for _ in range(2)]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    yield relays, tasks
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=5)


async def _one_leader(relays, pool) -> bool:
    return sum(r.leading for r in relays) == 1 and len(await _lock_holders(pool)) == 1


@pytest.mark.parametrize("terminated", ["the leader's lock connection", "every connection (a restart)"])
async def test_after_losing_its_database_connection_one_relay_leads_again_and_events_still_go_out(
        pool, nc, two_relays, province, terminated):
    relays, tasks = two_relays
    store = EventStore(pool)
    assert await _eventually(lambda: _one_leader(relays, pool))
    [old_leader] = [r for r in relays if r.leading]
    [lock_pid] = await _lock_holders(pool)

    if terminated.startswith("the leader"):
        await pool.execute("SELECT pg_terminate_backend($1)", lock_pid)
    else:
        await pool.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                           " WHERE datname = current_database() AND pid <> pg_backend_pid()")
    # the old leader notices, gives way, and one relay (either) takes the lock on a live connection; the terminated
    # backend holds its lock until it has exited (pg_terminate_backend only signals it), which under load takes a
    # moment, so the lock must have moved on, not merely be held once
    async def led_anew() -> bool:
        return await _one_leader(relays, pool) and lock_pid not in await _lock_holders(pool)
    assert await _eventually(led_anew), "no relay leads on a live connection after the connection loss"
    assert not any(t.done() for t in tasks), "a relay stopped for good"

    batch = envelopes(f"scheduling:class:{province}", 0, 3, province=province)
    await store.append(batch, 0)
    events = await published(nc, province, expected=3)
    assert [e["event_id"] for e in events] == [str(e.event_id) for e in batch]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0
    assert sum(r.leading for r in relays) == 1 and old_leader in relays


async def test_only_the_relay_holding_the_lock_publishes_after_a_failover(pool, nc, two_relays, province):
    relays, _ = two_relays
    assert await _eventually(lambda: _one_leader(relays, pool))
    [lock_pid] = await _lock_holders(pool)
    await pool.execute("SELECT pg_terminate_backend($1)", lock_pid)
    await asyncio.sleep(1)  # the old leader's next statement fails within a poll interval
    assert await _eventually(lambda: _one_leader(relays, pool))
    [follower] = [r for r in relays if not r.leading]
    before = follower.published
    await EventStore(pool).append(envelopes(f"scheduling:class:{province}", 0, 5, province=province), 0)
    assert len(await published(nc, province, expected=5)) == 5
    assert follower.published == before, "a relay without the lock published"


async def test_relays_behind_a_postgresql_that_goes_away_for_a_while_lead_again_when_it_is_back(
        database, pool, nc, province):
    import asyncpg
    from ttct_dev.faults.proxy import SwitchableProxy

    proxy = await SwitchableProxy(database).up()
    behind = await asyncpg.create_pool(proxy.url, min_size=1, max_size=10)
    watcher = pool  # the test's own, not through the proxy
    js = nc.jetstream()
    await ensure_stream(js, "scheduling")
    relays = [OutboxRelay(behind, js, batch_size=7, poll_interval=0.02) for _ in range(2)]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    try:
        assert await _eventually(lambda: _one_leader(relays, watcher))
        await proxy.down()  # every connection dropped, new ones refused: PostgreSQL restarting
        await asyncio.sleep(2)
        assert await _lock_holders(watcher) == []
        await proxy.up()
        assert await _eventually(lambda: _one_leader(relays, watcher)), "no relay leads once PostgreSQL is back"
        assert not any(t.done() for t in tasks), "a relay stopped for good"
        batch = envelopes(f"scheduling:class:{province}", 0, 3, province=province)
        await EventStore(watcher).append(batch, 0)
        assert [e["event_id"] for e in await published(nc, province, expected=3)] == [str(e.event_id) for e in batch]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=5)
        behind.terminate()
        await proxy.down()
