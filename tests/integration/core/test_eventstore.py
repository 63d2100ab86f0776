import asyncio

import asyncpg
import pytest
from helpers import envelopes
from ttct.eventsourcing.eventstore import ConcurrencyConflict, EventStore

pytestmark = pytest.mark.integration


async def test_what_is_appended_reads_back_equal_in_order(pool):
    store = EventStore(pool)
    first, second = envelopes("scheduling:class:a", 0, 2), envelopes("scheduling:class:a", 2, 1)
    await store.append(first, 0)
    await store.append(second, 2)
    assert await store.read("scheduling:class:a") == first + second
    assert await store.read("scheduling:class:a", after_version=2) == second
    assert await store.version("scheduling:class:a") == 3


async def test_many_streams_read_at_once_each_after_its_own_version(pool):
    store = EventStore(pool)
    a, b = envelopes("assessment:result:c:a", 0, 3), envelopes("assessment:result:c:b", 0, 2)
    await store.append(a, 0)
    await store.append(b, 0)
    found = await store.read_many({"assessment:result:c:a": 1, "assessment:result:c:b": 0, "assessment:result:c:z": 0})
    assert found == {"assessment:result:c:a": a[1:], "assessment:result:c:b": b, "assessment:result:c:z": []}
    assert await store.read_many({}) == {}


async def test_two_writers_racing_on_one_version_exactly_one_wins(pool):
    store = EventStore(pool)
    await store.append(envelopes("s:1:x", 0), 0)
    contenders = [envelopes("s:1:x", 1) for _ in range(20)]
    outcomes = await asyncio.gather(*(store.append(e, 1) for e in contenders), return_exceptions=True)
    winners = [o for o in outcomes if o is None]
    assert len(winners) == 1
    assert all(isinstance(o, ConcurrencyConflict) for o in outcomes if o is not None)
    assert await store.version("s:1:x") == 2


async def test_a_stale_or_future_expected_version_is_a_conflict(pool):
    store = EventStore(pool)
    await store.append(envelopes("s:2:x", 0, 2), 0)
    with pytest.raises(ConcurrencyConflict):
        await store.append(envelopes("s:2:x", 1), 1)
    with pytest.raises(ConcurrencyConflict):  # would leave a gap at version 3
        await store.append(envelopes("s:2:x", 3), 3)
    assert await store.version("s:2:x") == 2


async def test_stored_events_cannot_be_changed_or_deleted(pool):
    store = EventStore(pool)
    await store.append(envelopes("s:3:x", 0), 0)
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.RaiseError, match="immutable"):
            await conn.execute("UPDATE events SET event_type = 'Forged'")
        with pytest.raises(asyncpg.RaiseError, match="immutable"):
            await conn.execute("DELETE FROM events")


async def test_every_append_queues_its_events_in_the_outbox_in_the_same_statement(pool):
    store = EventStore(pool)
    await store.append(envelopes("s:4:x", 0, 3), 0)
    with pytest.raises(ConcurrencyConflict):
        await store.append(envelopes("s:4:x", 0, 1), 0)
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 3


async def test_many_streams_appended_in_one_statement_read_back_in_order_and_are_all_queued(pool):
    store = EventStore(pool)
    await store.append(envelopes("s:5:a", 0, 1), 0)
    a, b = envelopes("s:5:a", 1, 2), envelopes("s:5:b", 0, 3)
    async with store.transaction() as conn:
        await store.append_streams([(a, 1), (b, 0), ([], 7)], conn=conn)
    assert await store.read("s:5:a", after_version=1) == a
    assert await store.read("s:5:b") == b
    positions = await pool.fetch("SELECT e.event_id FROM outbox o JOIN events e USING (position) ORDER BY position")
    assert [r["event_id"] for r in positions][1:] == [e.event_id for e in a + b]


async def test_one_stale_stream_among_many_writes_none_of_them(pool):
    store = EventStore(pool)
    await store.append(envelopes("s:6:a", 0, 2), 0)
    async with pool.acquire() as conn:
        with pytest.raises(ConcurrencyConflict):
            async with conn.transaction():
                await store.append_streams([(envelopes("s:6:b", 0, 2), 0), (envelopes("s:6:a", 1), 1)], conn=conn)
    assert await store.version("s:6:b") == 0
    assert await store.version("s:6:a") == 2
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 2
