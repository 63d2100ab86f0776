"""Append-only event store on asyncpg, with the transactional outbox written by the same statement.

`append` writes a stream's new events and their outbox rows in one statement, so an event is stored if and only
if it will be published. It succeeds only if the stream is at `expected_version`; otherwise, or when a
concurrent writer took the same version, it raises `ConcurrencyConflict`.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import datetime
from uuid import UUID

import asyncpg

from ttct.contracts import DomainEvent, Envelope, EventMetadata


# A write that must commit together with whatever events the current task appends, in their transaction: the
# Idempotency-Key middleware sets it, so that a request's key is recorded as done if and only if its events are.
WITH_THE_EVENTS: ContextVar[Callable[[asyncpg.Connection], Awaitable[None]] | None] = ContextVar(
    "ttct_with_the_events", default=None)


class ConcurrencyConflict(Exception):
    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(f"stream {stream_id} is no longer at version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


def make_envelopes(
    stream_id: str,
    expected_version: int,
    events: Sequence[DomainEvent],
    metadata: EventMetadata,
    *,
    now: datetime,
    new_id: Callable[[], UUID],
) -> list[Envelope]:
    """Wrap the domain's events for storage: ids and the clock are injected, never called here."""
    return [
        Envelope(
            event_id=new_id(),
            event_type=event.event_type,
            schema_version=event.schema_version,
            occurred_at=now,
            stream_id=stream_id,
            stream_version=expected_version + i,
            payload=event.model_dump(mode="json"),
            **metadata.model_dump(),
        )
        for i, event in enumerate(events, start=1)
    ]


_APPEND = """
WITH new AS (
    INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version, occurred_at, envelope)
    SELECT $1, v, id, t, sv, at, env
    FROM unnest($3::int[], $4::uuid[], $5::text[], $6::int[], $7::timestamptz[], $8::jsonb[]) AS u(v, id, t, sv, at, env)
    WHERE (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1) = $2
    RETURNING position
), queued AS (
    INSERT INTO outbox (position) SELECT position FROM new
)
SELECT count(*) FROM new
"""

# Many streams' new events in one statement: each stream must be at its expected version, or nothing is written.
_APPEND_STREAMS = """
WITH stale AS (
    SELECT 1 FROM unnest($1::text[], $2::int[]) AS x(s, expected)
    WHERE (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = x.s) <> x.expected
), new AS (
    INSERT INTO events (stream_id, stream_version, event_id, event_type, schema_version, occurred_at, envelope)
    SELECT s, v, id, t, sv, at, env
    FROM unnest($3::text[], $4::int[], $5::uuid[], $6::text[], $7::int[], $8::timestamptz[], $9::jsonb[])
         WITH ORDINALITY AS u(s, v, id, t, sv, at, env, n)
    WHERE NOT EXISTS (SELECT 1 FROM stale)
    ORDER BY n
    RETURNING position
), queued AS (
    INSERT INTO outbox (position) SELECT position FROM new
)
SELECT count(*) FROM new
"""


def _columns(envelopes: Sequence[Envelope]) -> tuple[list, ...]:
    """The events' columns as the append statements take them, one array each."""
    return ([e.stream_version for e in envelopes], [e.event_id for e in envelopes],
            [e.event_type for e in envelopes], [e.schema_version for e in envelopes],
            [e.occurred_at for e in envelopes], [e.model_dump_json() for e in envelopes])


class EventStore:
    def __init__(self, pool: asyncpg.Pool, on_append: Callable[[], None] | None = None) -> None:
        self._pool = pool
        self._on_append = on_append or (lambda: None)

    async def append(
        self,
        envelopes: Sequence[Envelope],
        expected_version: int,
        *,
        conn: asyncpg.Connection | None = None,
    ) -> None:
        if not envelopes:
            return
        stream_id = envelopes[0].stream_id
        if any(e.stream_id != stream_id for e in envelopes):
            raise ValueError("one append writes one stream")
        args = (stream_id, expected_version, *_columns(envelopes))
        also = WITH_THE_EVENTS.get()
        try:
            if conn is None:
                async with self._pool.acquire() as own:
                    if also is None:
                        inserted = await own.fetchval(_APPEND, *args)
                    else:
                        async with own.transaction():
                            inserted = await own.fetchval(_APPEND, *args)
                            if inserted == len(envelopes):
                                await also(own)
            else:
                inserted = await conn.fetchval(_APPEND, *args)
                if also is not None and inserted == len(envelopes):
                    await also(conn)
        except asyncpg.UniqueViolationError as exc:
            raise ConcurrencyConflict(stream_id, expected_version) from exc
        if inserted != len(envelopes):
            raise ConcurrencyConflict(stream_id, expected_version)
        if conn is None:
            self._on_append()

    async def append_streams(self, writes: Sequence[tuple[Sequence[Envelope], int]], *,
                             conn: asyncpg.Connection) -> None:
        """Several streams' new events (each with the version its events were decided on) in one statement of the
        caller's transaction, in the order given: all of them, or ConcurrencyConflict and none. The same as an
        `append` per stream, without a round trip to PostgreSQL for each (a class's grid of scores is one stream
        per learner)."""
        writes = [(envelopes, version) for envelopes, version in writes if envelopes]
        if not writes:
            return
        for envelopes, _version in writes:
            if any(e.stream_id != envelopes[0].stream_id for e in envelopes):
                raise ValueError("each write is one stream's")
        every = [e for envelopes, _version in writes for e in envelopes]
        args = ([envelopes[0].stream_id for envelopes, _version in writes],
                [version for _envelopes, version in writes], [e.stream_id for e in every], *_columns(every))
        first = writes[0][0][0].stream_id, writes[0][1]
        try:
            inserted = await conn.fetchval(_APPEND_STREAMS, *args)
        except asyncpg.UniqueViolationError as exc:
            raise ConcurrencyConflict(*first) from exc
        if inserted != len(every):
            raise ConcurrencyConflict(*first)
        also = WITH_THE_EVENTS.get()
        if also is not None:
            await also(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A transaction for appends together with other writes (e.g. a view read back at once)."""
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                yield conn
        self._on_append()

    def committed(self) -> None:
        """Tell the relay that a caller-managed transaction holding appends has committed."""
        self._on_append()

    async def read(self, stream_id: str, after_version: int = 0) -> list[Envelope]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT envelope FROM events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version",
                stream_id,
                after_version,
            )
        return [Envelope.model_validate_json(r["envelope"]) for r in rows]

    async def read_many(self, after_versions: dict[str, int]) -> dict[str, list[Envelope]]:
        """The events of many streams after the version given for each, in one query (a class's learners' streams)."""
        out: dict[str, list[Envelope]] = {stream: [] for stream in after_versions}
        if not after_versions:
            return out
        async with self._pool.acquire() as conn:
            # Stream by stream through the (stream_id, stream_version) index whatever the planner's statistics say:
            # the sorted subquery is not flattened into a join, which a table growing faster than it is analysed
            # could make a scan of the whole table.
            rows = await conn.fetch(
                "SELECT a.stream_id, e.envelope FROM unnest($1::text[], $2::int[]) AS a(stream_id, after_version)"
                " CROSS JOIN LATERAL (SELECT envelope, stream_version FROM events WHERE events.stream_id = a.stream_id"
                " AND events.stream_version > a.after_version ORDER BY stream_version) e"
                " ORDER BY a.stream_id, e.stream_version",
                list(after_versions), list(after_versions.values()),
            )
        for r in rows:
            out[r["stream_id"]].append(Envelope.model_validate_json(r["envelope"]))
        return out

    async def version(self, stream_id: str) -> int:
        async with self._pool.acquire() as conn:
            return await conn.fetchval(
                "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1", stream_id
            )
