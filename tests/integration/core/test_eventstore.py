import asyncio

import asyncpg
import pytest
from helpers import envelopes
from ttct.eventsourcing.eventstore import ConcurrencyConflict, EventStore, Statements

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


# --- commit: concurrent commands' appends and view rows as one transaction ----------------------------------------

async def _probe(pool, name: str) -> str:
    await pool.execute(f"CREATE TABLE {name} (stream_id text PRIMARY KEY, title text NOT NULL)")
    return name


def _rows_of(table: str, seen: list | None = None, scope=None) -> Statements:
    def of(batch):
        if seen is not None:
            seen.append((batch[0].stream_id, scope.get() if scope else None))
        return [(f"INSERT INTO {table} VALUES ($1, $2)", (e.stream_id, e.payload["title"])) for e in batch]
    return Statements(of)


async def test_concurrent_commits_share_transactions_and_each_lands_with_its_view_rows(pool):
    table = await _probe(pool, "probe_together")
    store = EventStore(pool)
    streams = [f"s:g:{i}" for i in range(40)]
    await asyncio.gather(*(store.commit(envelopes(s, 0), 0, project=_rows_of(table)) for s in streams))
    assert [await store.version(s) for s in streams] == [1] * 40
    assert await pool.fetchval(f"SELECT count(*) FROM {table}") == 40
    transactions = await pool.fetchval("SELECT count(DISTINCT xmin::text) FROM events WHERE stream_id = ANY($1)",
                                       streams)
    assert transactions < 40  # the commits that waited for one in flight went together


async def test_a_conflict_or_a_refused_view_row_in_a_shared_commit_fails_only_its_own_command(pool):
    table = await _probe(pool, "probe_alone")
    store = EventStore(pool)
    await store.append(envelopes("s:h:stale", 0), 0)
    await pool.execute(f"INSERT INTO {table} VALUES ('s:h:taken', 'already there')")
    good = [f"s:h:{i}" for i in range(10)]
    outcomes = await asyncio.gather(
        *(store.commit(envelopes(s, 0), 0, project=_rows_of(table)) for s in good[:5]),
        store.commit(envelopes("s:h:stale", 0), 0, project=_rows_of(table)),  # the stream is at 1: a conflict
        store.commit(envelopes("s:h:taken", 0), 0, project=_rows_of(table)),  # its view row is refused
        *(store.commit(envelopes(s, 0), 0, project=_rows_of(table)) for s in good[5:]),
        return_exceptions=True)
    assert outcomes[:5] == [None] * 5 and outcomes[7:] == [None] * 5
    assert isinstance(outcomes[5], ConcurrencyConflict)
    assert isinstance(outcomes[6], asyncpg.UniqueViolationError)
    assert [await store.version(s) for s in good] == [1] * 10
    assert await store.version("s:h:stale") == 1 and await store.version("s:h:taken") == 0  # nothing of theirs
    assert await pool.fetchval(f"SELECT count(*) FROM {table} WHERE stream_id = ANY($1)", good) == 10


async def test_a_commit_runs_under_its_own_command_s_scope_and_a_cancelled_caller_does_not_stop_the_others(pool):
    import contextlib
    import contextvars
    table = await _probe(pool, "probe_scope")
    scope: contextvars.ContextVar[str] = contextvars.ContextVar("probe_scope", default="all")

    @contextlib.contextmanager
    def within(value):
        token = scope.set(value)
        try:
            yield
        finally:
            scope.reset(token)

    store = EventStore(pool, scope=scope.get, within=within)
    seen: list[tuple[str, str]] = []

    async def command(stream: str, centre: str) -> None:
        scope.set(centre)
        await store.commit(envelopes(stream, 0), 0, project=_rows_of(table, seen, scope))

    streams = {f"s:i:{i}": f"centre-{i % 3}" for i in range(30)}
    tasks = [asyncio.create_task(command(s, c)) for s, c in streams.items()]
    await asyncio.sleep(0)
    tasks[4].cancel()  # a client gone while its command waits for the commit
    await asyncio.gather(*tasks, return_exceptions=True)
    assert sorted(seen) == sorted(streams.items())  # every write's rows made under the scope of its command
    assert [await store.version(s) for s in streams] == [1] * 30  # the cancelled one's decision was committed too


async def test_a_commit_holds_a_bounded_number_of_events_and_a_larger_command_goes_alone(pool):
    store = EventStore(pool, group_events=5)
    streams = {f"s:j:{i}": n for i, n in enumerate([2, 2, 2, 7, 1, 3])}
    await asyncio.gather(*(store.commit(envelopes(s, 0, n), 0) for s, n in streams.items()))
    assert [await store.version(s) for s in streams] == list(streams.values())
    rows = await pool.fetch("SELECT stream_id, xmin::text AS tx FROM events WHERE stream_id = ANY($1)", list(streams))
    transactions: dict[str, list[str]] = {}
    for r in rows:
        transactions.setdefault(r["tx"], []).append(r["stream_id"])
    large = next(streams for streams in transactions.values() if "s:j:3" in streams)
    assert large == ["s:j:3"] * 7  # the command of 7 events alone
    assert all(len(streams) <= 5 for streams in transactions.values() if streams is not large)
    assert len(transactions) < len(streams)  # and the others still went together
