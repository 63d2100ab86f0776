"""Append-only event store on asyncpg, with the transactional outbox written by the same statement.

`append` writes a stream's new events and their outbox rows in one statement, so an event is stored if and only
if it will be published. It succeeds only if the stream is at `expected_version`; otherwise, or when a
concurrent writer took the same version, it raises `ConcurrencyConflict`.

`commit` is how commands store their decisions: concurrent callers' appends and view rows go to PostgreSQL as
one transaction (group commit): one BEGIN, one append statement for all their streams, one executemany per kind
of view row, one COMMIT (and one WAL flush), instead of four round trips and a flush per command. A batch that
fails (one stream's version taken by another replica, a view row refused) is committed again caller by caller,
so each caller gets its own outcome and nobody's write depends on another's. A batch holds the writes of one
row-level security scope only (`scope`/`within`): each is written under the scope its request was given.
"""
from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from opentelemetry import context as otel_context
from opentelemetry import trace

from ttct.contracts import DomainEvent, Envelope, EventMetadata, decided

tracer = trace.get_tracer("ttct.eventsourcing.eventstore")


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
    """Wrap the domain's events for storage: ids and the clock are injected, never called here. Each envelope
    reads back as its event without validating it again (`ttct.contracts.decided`)."""
    return [
        decided(Envelope(
            event_id=new_id(),
            event_type=event.event_type,
            schema_version=event.schema_version,
            occurred_at=now,
            stream_id=stream_id,
            stream_version=expected_version + i,
            payload=event.model_dump(mode="json"),
            **metadata.model_dump(),
        ), event)
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


Statement = tuple[str, Sequence[Any]]


async def run_statements(conn: asyncpg.Connection, statements: Iterable[Statement]) -> None:
    """In order, each run of one statement as one executemany (one round trip for a 2,000-row import's rows, or for
    a group commit's requests')."""
    run_sql, run_args = None, []
    for sql, args in statements:
        if sql != run_sql and run_args:
            await conn.executemany(run_sql, run_args)
            run_args = []
        run_sql = sql
        run_args.append(args)
    if run_args:
        await conn.executemany(run_sql, run_args)


@dataclass(frozen=True)
class Statements:
    """A projection given as the statements it runs for some events, not as a coroutine that runs them: a group
    commit runs the rows of many commands' same statement as one executemany."""

    of: Callable[[list[Envelope]], Iterable[Statement]]

    async def __call__(self, conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
        await run_statements(conn, self.of(envelopes))


Projection = Callable[[asyncpg.Connection, list[Envelope]], Awaitable[None]]


@dataclass(eq=False)
class _Write:
    """One command's events waiting for a group commit, with what must commit with them."""

    envelopes: list[Envelope]
    expected_version: int
    project: Projection | None
    with_the_events: Callable[[asyncpg.Connection], Awaitable[None]] | None
    scope: Hashable
    trace_context: otel_context.Context
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    @property
    def groups(self) -> bool:
        """Whether this write can share a transaction: its view rows are statements to merge (or none)."""
        return self.project is None or isinstance(self.project, Statements)

    def settle(self, error: BaseException | None = None) -> None:
        if not self.done.done():
            if error is None:
                self.done.set_result(None)
            else:
                self.done.set_exception(error)


def _commit_span(writes: list[_Write]) -> AbstractContextManager:
    """The group commit's span: in the first command's trace (so its statements stay in a trace), linked to the
    others'; none when the first command is not traced."""
    spans = [trace.get_current_span(w.trace_context).get_span_context() for w in writes]
    if not spans[0].is_valid:
        return nullcontext()
    return tracer.start_as_current_span("eventstore commit", context=writes[0].trace_context,
                                        links=[trace.Link(s) for s in spans[1:] if s.is_valid],
                                        attributes={"ttct.commit.commands": len(writes)})


def _columns(envelopes: Sequence[Envelope]) -> tuple[list, ...]:
    """The events' columns as the append statements take them, one array each."""
    return ([e.stream_version for e in envelopes], [e.event_id for e in envelopes],
            [e.event_type for e in envelopes], [e.schema_version for e in envelopes],
            [e.occurred_at for e in envelopes], [e.model_dump_json() for e in envelopes])


class EventStore:
    def __init__(self, pool: asyncpg.Pool, on_append: Callable[[], None] | None = None, *,
                 scope: Callable[[], Hashable] = lambda: None,
                 within: Callable[[Any], AbstractContextManager] = lambda _scope: nullcontext(),
                 group_size: int = 64, group_events: int = 1_000) -> None:
        """`scope`: the caller's row-level security scope (`tenancy.current`), `within`: a context that sets one
        for the statements run in it (`tenancy.scoped`); `group_size`: the most commands one commit holds,
        `group_events` the most events (a command with more goes alone): sixteen lists of 500 learners in one
        statement would hold every row's arguments in memory at once (enrolment's peak RSS +50 MB in a year)."""
        self._pool = pool
        self._on_append = on_append or (lambda: None)
        self._scope, self._within = scope, within
        self._group_size, self._group_events = group_size, group_events
        self._pending: list[_Write] = []
        self._committing: asyncio.Task | None = None

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

    async def commit(self, envelopes: Sequence[Envelope], expected_version: int, *,
                     project: Projection | None = None) -> None:
        """Append one stream's events and write `project`'s view rows for them in one transaction, together with
        whatever `WITH_THE_EVENTS` holds; with other callers' commits when they come at the same time (see the
        module's docstring). Raises what the append or the projection raised, e.g. `ConcurrencyConflict`."""
        if not envelopes:
            return
        write = _Write(list(envelopes), expected_version, project, WITH_THE_EVENTS.get(), self._scope(),
                       otel_context.get_current())
        self._pending.append(write)
        if self._committing is None:
            # A task of its own, in a context of its own: a caller cancelled (a client gone) must not cancel the
            # others' commit, nor lend it its scope or trace
            self._committing = asyncio.get_running_loop().create_task(self._commit_pending(),
                                                                      context=contextvars.Context())
        await asyncio.shield(write.done)

    async def _commit_pending(self) -> None:
        """While commands wait: the first one's scope, and every waiting command of that scope, as one commit. The
        commands arriving while a commit runs make the next one: no timer, so a lone command waits for nobody."""
        batch: list[_Write] = []
        try:
            while self._pending:
                scope, events = self._pending[0].scope, 0
                batch = []
                for w in self._pending:
                    if w.scope != scope:
                        continue
                    if batch and (len(batch) == self._group_size or events + len(w.envelopes) > self._group_events):
                        break
                    batch.append(w)
                    events += len(w.envelopes)
                taken = {id(w) for w in batch}
                self._pending = [w for w in self._pending if id(w) not in taken]
                with self._within(scope):
                    await self._commit_batch(batch)
        finally:
            self._committing = None
            for write in [*batch, *self._pending]:  # stopped (shutdown): nobody waits for ever
                write.settle(RuntimeError("the event store stopped before this commit"))
            self._pending = []

    async def _commit_batch(self, batch: list[_Write]) -> None:
        together = [w for w in batch if w.groups]
        alone = [w for w in batch if not w.groups]
        if len(together) == 1:
            alone, together = [*together, *alone], []
        if together:
            try:
                with _commit_span(together):
                    async with self._pool.acquire() as conn, conn.transaction():
                        await self.append_streams([(w.envelopes, w.expected_version) for w in together], conn=conn)
                        await run_statements(conn, (statement for w in together if isinstance(w.project, Statements)
                                                    for statement in w.project.of(w.envelopes)))
                        for w in together:
                            if w.with_the_events is not None:
                                await w.with_the_events(conn)
            except Exception:  # noqa: BLE001 - one command's conflict or refusal is not the others': each alone below
                alone = [*together, *alone]
            else:
                self._on_append()
                for w in together:
                    w.settle()
        for w in alone:
            try:
                await self._commit_one(w)
            except Exception as exc:  # noqa: BLE001 - handed to the command that made the write
                w.settle(exc)
            else:
                w.settle()

    async def _commit_one(self, write: _Write) -> None:
        token = otel_context.attach(write.trace_context)
        also = WITH_THE_EVENTS.set(write.with_the_events)
        try:
            if write.project is None:  # one statement (with what must commit with it, in a transaction)
                await self.append(write.envelopes, write.expected_version)
            else:
                async with self.transaction() as conn:
                    await self.append(write.envelopes, write.expected_version, conn=conn)
                    await write.project(conn, write.envelopes)
        finally:
            WITH_THE_EVENTS.reset(also)
            otel_context.detach(token)

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
