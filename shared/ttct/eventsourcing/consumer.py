"""Idempotent, ordered application of received events to a service's projections.

Each fetched batch is applied in one transaction, in stream order, together with a checkpoint per source
aggregate stream (last applied version and event id). So:
- an event at or below its stream's checkpoint was already applied (a redelivery): acked, not applied again;
- an event more than one ahead waits (NAK with a delay) until its predecessor is applied: order per aggregate
  holds even after retries. The wait follows the predecessor's own retry delay when it is failing, so a stream
  blocked by a failing event is not redelivered every half second;
- the transaction first takes a transaction-scoped advisory lock per (consumer, stream), so two replicas never
  apply one stream's events at once, even its first event (for which there is no checkpoint row to lock yet).

Failures are of two kinds, and only one of them ever leads to a dead letter:
- transient (`is_transient`: the database or the key vault away or refusing connections, a lost connection, a
  deadlock, a serialization failure, a pool timeout): the whole batch is NAKed and retried with a growing delay
  (`RETRY_DELAYS`, then every 30 s) for as long as it takes. Never counted, never dead-lettered;
- deterministic (the event cannot be read, a handler raises, `PermanentError`): the event is retried alone; its
  failures are counted in `consumer_failures` (JetStream's delivery count also counts waits) and cleared when it
  is applied after all. `PermanentError`, an event this reader cannot read, or `max_deliver` failures make it a
  dead letter.

A dead letter always carries its stream id and version: the envelope is read leniently for them when it does not
read strictly (an envelope field or event type this reader does not know yet, a newer schema version, a payload
it cannot validate). Only a body that is not an envelope at all (no stream id or version in it) has none; it
belongs to no stream, so nothing waits for it.

A dead letter *parks* its stream rather than stalling it or skipping it:
- the checkpoint stays before the dead letter and `consumer_checkpoints.held_to` records the stream as parked;
- the stream's later events are acked as they arrive and kept, in order, as *held* dead letters behind it (no
  NAK churn, nothing lost, no other stream affected, JetStream never redelivers them);
- `python -m ttct.admin <service> replay <id>` (after a fix or after the reader was upgraded) applies the parked
  event and then its held successors in version order, in one transaction with the checkpoint (`replay_parked`):
  each exactly once and in order; a successor that fails again parks the stream at itself;
- `python -m ttct.admin <service> skip <id>` gives the parked event up (the operator's decision: it stays in the
  stream and the event store) and applies the held successors the same way.
So no stream ever stalls for ever: it is parked visibly (the `ttct_dead_letters` gauge) with everything after it
kept, and either command moves it on. A rebuild starts again from the streams and drops the old dead letters.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from nats.aio.msg import Msg
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field

from ttct.contracts import DomainEvent, Envelope, read_event
from ttct.operations import metrics
from ttct.operations.telemetry import context_from, spans_can_record

log = structlog.get_logger("ttct.eventsourcing.consumer")
tracer = trace.get_tracer("ttct.eventsourcing.consumer")

Handler = Callable[[asyncpg.Connection, Envelope, DomainEvent], Awaitable[None]]
Applied = tuple[Envelope, DomainEvent]
BatchHandler = Callable[[asyncpg.Connection, Sequence[Applied]], Awaitable[None]]
RETRY_DELAYS = (0.5, 2.0, 5.0, 15.0, 30.0)


def batched(handler: BatchHandler) -> BatchHandler:
    """Mark a handler that takes a run of consecutive events at once (`handler(conn, [(envelope, event), …])`),
    in their order, instead of one call per event: one statement for the run instead of one per event (the
    consumers' cost is mostly per statement). The runner hands it every run of consecutive applicable events
    that map to this same handler object; any other handler in between ends the run, so the order of effects is
    the order of the events. Map several event types to one batched handler to let their runs join."""
    handler.batched = True  # type: ignore[attr-defined]
    return handler


def is_batched(handler: object) -> bool:
    return getattr(handler, "batched", False) is True


async def call_handler(handler: Handler | BatchHandler, conn: asyncpg.Connection, envelope: Envelope,
                       event: DomainEvent) -> None:
    """Apply one event with a handler of either kind (a batched handler gets a run of one)."""
    if is_batched(handler):
        await handler(conn, [(envelope, event)])  # type: ignore[call-arg]
    else:
        await handler(conn, envelope, event)  # type: ignore[call-arg]


def rounds(items: Sequence[Applied], key: Callable[[Applied], object]) -> list[list[Applied]]:
    """Split a run into rounds in which no key repeats (the n-th event of a key goes to round n), so a batched
    upsert never touches one row twice in a statement (PostgreSQL refuses) and each key's events still apply in
    order, round after round: the same result as applying them one by one."""
    out: list[list[Applied]] = []
    seen: dict[object, int] = {}
    for item in items:
        k = key(item)
        n = seen.get(k, 0)
        seen[k] = n + 1
        if n == len(out):
            out.append([])
        out[n].append(item)
    return out


class PermanentError(Exception):
    """The event can never be applied (e.g. it breaks an invariant): dead-letter it at once."""


class TransientError(Exception):
    """Raise (or raise from) this for a failure that a later retry can cure: it is never dead-lettered."""


_TRANSIENT: tuple[type[BaseException], ...] = (
    TransientError,
    OSError,  # refused, reset, unreachable; also ConnectionError
    TimeoutError,  # a pool's acquire timeout, a statement timeout on our side
    asyncpg.PostgresConnectionError,  # 08…: lost or failed connections
    asyncpg.exceptions.TransactionRollbackError,  # 40…: deadlock detected, serialization failure
    asyncpg.exceptions.InsufficientResourcesError,  # 53…: too many connections, out of memory or disk
    asyncpg.exceptions.OperatorInterventionError,  # 57…: shutting down, cannot connect now, cancelled
    asyncpg.exceptions.LockNotAvailableError,  # 55P03
    asyncpg.InterfaceError,  # the pool is closing, a connection closed under an operation
)
_TRANSIENT_TEXT = ("not currently accepting connections", "the database system is")


def is_transient(exc: BaseException) -> bool:
    """A failure that says nothing about the event: the database or the key vault (a database too) is away or
    busy. Looks through `raise … from` chains, so a handler that wraps such an error keeps it transient."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _TRANSIENT) and not isinstance(current, PermanentError):
            return True
        # ALTER DATABASE … ALLOW_CONNECTIONS false, a database being dropped or restarted: 55000 is also an
        # ordinary state error, so only these messages count
        if isinstance(current, asyncpg.PostgresError) and any(t in str(current) for t in _TRANSIENT_TEXT):
            return True
        current = current.__cause__ or current.__context__
    return False


class Position(BaseModel):
    """What a dead letter must keep even when the envelope does not read strictly: where the event belongs."""

    model_config = ConfigDict(extra="ignore")

    event_id: UUID
    stream_id: str
    stream_version: int = Field(ge=1)
    event_type: str = "?"


Placed = Position | Envelope
"""Where an event belongs: its envelope when it reads (which has every field of a `Position`, already validated),
else what could be read leniently."""


class Received:
    """A message as read, where it belongs and, when it reads, its envelope and event; never changed once made.
    A plain class with slots rather than a frozen dataclass: one is made per event, and a frozen dataclass sets
    each field through `object.__setattr__`; the stream and version are looked up several times per event."""

    __slots__ = ("msg", "position", "envelope", "event", "error", "stream_id", "version")

    def __init__(self, msg: Msg, position: Placed, envelope: Envelope | None = None, event: DomainEvent | None = None,
                 error: BaseException | None = None) -> None:
        self.msg, self.position, self.envelope, self.event = msg, position, envelope, event
        self.error = error  # why this reader cannot read it
        self.stream_id: str = position.stream_id
        self.version: int = position.stream_version


def read_position(data: bytes) -> Position | None:
    try:
        return Position.model_validate(json.loads(data))
    except Exception:
        return None


_ENVELOPE = Envelope.__pydantic_validator__  # `Envelope.model_validate_json` without its Python layer: per event


def read_message(data: bytes) -> tuple[Placed | None, Envelope | None, DomainEvent | None, BaseException | None]:
    """The event as this reader reads it, or its position and why it cannot. Read once: the envelope's fields are
    parsed and validated from the bytes, its payload (a JSON object there) is validated once, by its contract,
    after any upcasting, and the envelope is the position. Only what does not read is parsed again, leniently."""
    try:
        envelope = _ENVELOPE.validate_json(data)
        return envelope, envelope, read_event(envelope), None
    except Exception as exc:
        return read_position(data), None, None, exc


class _State:
    """A stream's checkpoint as read under its lock: the last applied version and, when parked, the last held."""

    __slots__ = ("done", "event_id", "held_to", "changed")

    def __init__(self, done: int = 0, event_id: UUID | None = None, held_to: int | None = None) -> None:
        self.done, self.event_id, self.held_to, self.changed = done, event_id, held_to, False


async def lock_streams(conn: asyncpg.Connection, consumer: str, stream_ids: Sequence[str], *,
                       lock: bool = True) -> dict[str, _State]:
    """Serialise every writer of these streams' checkpoints (replicas, `ttct.admin`) until the transaction ends,
    in one order (no deadlock between two batches), and read their checkpoints. An advisory lock, not
    SELECT … FOR UPDATE: that locks nothing for a stream without a checkpoint row yet."""
    ordered = sorted(set(stream_ids))
    if lock:
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || s, 0))"
                           " FROM unnest($2::text[]) WITH ORDINALITY AS u(s, n) ORDER BY n", consumer, ordered)
    rows = await conn.fetch("SELECT stream_id, stream_version, event_id, held_to FROM consumer_checkpoints"
                            " WHERE consumer = $1 AND stream_id = ANY($2::text[])", consumer, ordered)
    return {r["stream_id"]: _State(r["stream_version"], r["event_id"], r["held_to"]) for r in rows}


_SAVE_STATES = """
    INSERT INTO consumer_checkpoints (consumer, stream_id, stream_version, event_id, held_to)
    SELECT $1, s, v, e, h FROM unnest($2::text[], $3::int[], $4::uuid[], $5::int[]) AS u(s, v, e, h)
    ON CONFLICT (consumer, stream_id) DO UPDATE SET stream_version = excluded.stream_version,
        event_id = excluded.event_id, held_to = excluded.held_to
"""


async def save_states(conn: asyncpg.Connection, consumer: str, states: Mapping[str, _State],
                      applied: Sequence[UUID] = ()) -> None:
    """The changed checkpoints saved; and `applied`, the events applied now, cleared of the failures counted
    against them (an event that failed before and now applies starts from zero again), in the same statement:
    a round trip less per batch."""
    changed = [(s, st) for s, st in states.items() if st.changed]
    columns = ([s for s, _ in changed], [st.done for _, st in changed], [st.event_id for _, st in changed],
               [st.held_to for _, st in changed])
    if changed and applied:
        await conn.execute(f"WITH saved AS ({_SAVE_STATES} RETURNING 1) DELETE FROM consumer_failures"
                           " WHERE consumer = $1 AND event_id = ANY($6::uuid[])", consumer, *columns, applied)
    elif changed:
        await conn.execute(_SAVE_STATES, consumer, *columns)
    elif applied:
        await conn.execute("DELETE FROM consumer_failures WHERE consumer = $1 AND event_id = ANY($2::uuid[])",
                           consumer, applied)


async def write_letter(conn: asyncpg.Connection, consumer: str, subject: str, position: Placed | None,
                       deliveries: int, error: str, body: bytes) -> None:
    await conn.execute(
        "INSERT INTO dead_letters (consumer, subject, event_id, stream_id, stream_version, deliveries, error, body)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        consumer, subject, position.event_id if position else None, position.stream_id if position else None,
        position.stream_version if position else None, deliveries, error, body)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class ProjectionRunner:
    def __init__(
        self,
        pool: asyncpg.Pool,
        consumer: str,
        handlers: dict[type[DomainEvent], Handler],
        *,
        max_deliver: int = 5,
        after_commit: Callable[[], None] | None = None,
        prepare: Callable[[Sequence[DomainEvent]], Awaitable[None]] | None = None,
    ) -> None:
        self._pool = pool
        self.consumer = consumer
        self._handlers = handlers
        self._max_deliver = max_deliver
        self._after_commit = after_commit or (lambda: None)
        self._prepare = prepare
        self._retry_at: dict[str, float] = {}  # stream -> when its failing event is redelivered
        self._outages = 0  # consecutive batches that failed transiently

    async def handle_batch(self, msgs: Sequence[Msg]) -> float:
        """Apply a fetched batch and settle every message; the seconds the caller should pause before fetching
        again (the database or vault is away: no point in fetching what cannot be applied yet)."""
        received: list[Received] = []
        for msg in msgs:
            position, envelope, event, error = read_message(msg.data)
            if position is None:  # not an envelope at all: it belongs to no stream, nothing waits for it
                await self._dead_letter_unplaced(msg, error)
                continue
            received.append(Received(msg, position, envelope, event, error))
        if not received:
            return 0.0
        with metrics.PROCESSING.labels(self.consumer).time():
            try:
                outcomes = await self._apply(received)
            except Exception as exc:
                if is_transient(exc):
                    return await self._outage(received, exc)
                log.info("batch failed, retrying event by event", error=repr(exc), size=len(received))
                return await self._one_by_one(received)
            self._outages = 0
            await self._settle(received, outcomes)
        return 0.0

    async def _outage(self, batch: Sequence[Received], exc: BaseException) -> float:
        """Nothing of the batch was applied and none of it is to blame: NAK it all, retry later, count nothing."""
        self._outages += 1
        delay = RETRY_DELAYS[min(self._outages, len(RETRY_DELAYS)) - 1]
        log.warning("database or key vault unavailable; retrying the batch", consumer=self.consumer,
                    error=repr(exc), retry_in=delay, outages=self._outages)
        metrics.EVENTS.labels(self.consumer, "unavailable").inc(len(batch))
        for r in batch:
            await r.msg.nak(delay=delay)
        return delay

    async def _apply(self, batch: Sequence[Received]) -> list[str]:
        """Apply in one transaction; return per event 'applied', 'duplicate', 'wait', 'parked' or 'held'."""
        if self._prepare is not None:  # e.g. the batch's learners' keys, in one query before the transaction
            await self._prepare([r.event for r in batch if r.event is not None])
        async with self._pool.acquire() as conn, conn.transaction():
            outcomes = await self.apply_in(conn, batch)
        self._after_commit()
        return outcomes

    async def apply_in(self, conn: asyncpg.Connection, batch: Sequence[Received], *, lock: bool = True) -> list[str]:
        """The batch applied on `conn`, inside the caller's transaction (`lock=False`: the caller holds every
        checkpoint already, as a rebuild does)."""
        states = await lock_streams(conn, self.consumer, [r.stream_id for r in batch], lock=lock)
        outcomes: list[str] = []
        applied: list[UUID] = []
        run: list[Received] = []  # consecutive events for one batched handler, not yet applied
        run_handler: object = None  # that handler
        for r in batch:
            state = states.get(r.stream_id)
            if state is None:  # the stream's first event (not `setdefault`: it would make a state per event)
                state = states[r.stream_id] = _State()
            v = r.version
            if v <= state.done or (state.held_to is not None and v <= state.held_to):
                outcomes.append("duplicate")
            elif state.held_to is not None:  # parked: keep it behind the dead letter, in order
                if v == state.held_to + 1:
                    await write_letter(conn, self.consumer, r.msg.subject, r.position, 1,
                                       f"held: version {state.done + 1} of its stream is a dead letter", r.msg.data)
                    state.held_to, state.changed = v, True
                    outcomes.append("held")
                else:
                    outcomes.append("wait")
            elif v > state.done + 1:
                outcomes.append("wait")
            elif r.error is not None:  # the next event, and this reader cannot read it: park the stream
                if run:
                    await self._apply_run(conn, run)
                    run = []
                await self._park(conn, r, r.error, 1, state)
                outcomes.append("parked")
            else:
                assert r.envelope is not None and r.event is not None
                env = r.envelope
                handler = self._handlers.get(type(r.event))
                if run and handler is not None and handler is not run_handler:
                    await self._apply_run(conn, run)
                    run = []
                if handler is not None and is_batched(handler):
                    run.append(r)
                    run_handler = handler
                elif handler is not None:
                    with structlog.contextvars.bound_contextvars(
                        event_id=str(env.event_id), event_type=env.event_type, centre=env.centre
                    ), self._span(env, activate=True):
                        await handler(conn, env, r.event)
                state.done, state.event_id, state.changed = v, env.event_id, True
                applied.append(env.event_id)
                outcomes.append("applied")
        if run:
            await self._apply_run(conn, run)
        await save_states(conn, self.consumer, states, applied)
        return outcomes

    async def _park(self, conn: asyncpg.Connection, r: Received, exc: BaseException, deliveries: int,
                    state: _State) -> None:
        await write_letter(conn, self.consumer, r.msg.subject, r.position, deliveries, describe(exc), r.msg.data)
        await conn.execute("DELETE FROM consumer_failures WHERE consumer = $1 AND event_id = $2",
                           self.consumer, r.position.event_id)
        state.held_to, state.changed = r.version, True
        metrics.EVENTS.labels(self.consumer, "dead-lettered").inc()
        log.error("event dead-lettered; its stream is parked behind it", consumer=self.consumer,
                  subject=r.msg.subject, event_id=str(r.position.event_id), stream_id=r.stream_id,
                  stream_version=r.version, error=repr(exc))

    def _span(self, env: Envelope, *, activate: bool):
        """The event's `process` span, a child of the command that caused it (its context is in the envelope).
        A span of a run (not activated) gets its attributes only if it records them: a run is a rebuild's whole
        batch, and without tracing they are waste."""
        name, context = f"process {env.event_type}", context_from(env.traceparent, env.tracestate)
        if activate:
            return tracer.start_as_current_span(name, context=context, kind=trace.SpanKind.CONSUMER,
                                                attributes=self._attributes(env))
        span = tracer.start_span(name, context=context, kind=trace.SpanKind.CONSUMER)
        if span.is_recording():
            span.set_attributes(self._attributes(env))
        return span

    def _attributes(self, env: Envelope) -> dict[str, str]:
        return {"messaging.system": "nats", "ttct.eventsourcing.consumer": self.consumer,
                "ttct.event_id": str(env.event_id)}

    async def _apply_run(self, conn: asyncpg.Connection, run: Sequence[Received]) -> None:
        # Each event keeps its own span in its own trace, open while the run is applied.
        spans = [self._span(r.envelope, activate=False) for r in run if r.envelope is not None] \
            if spans_can_record() else []
        try:
            with structlog.contextvars.bound_contextvars(event_type=run[0].position.event_type, events=len(run)):
                await self._handlers[type(run[0].event)](conn, [(r.envelope, r.event) for r in run])
        finally:
            for span in spans:
                span.end()

    def _wait_delay(self, stream_id: str) -> float:
        """How long an event waits for its predecessor: until the predecessor's own retry if it is failing (no
        redelivery churn while it backs off), else briefly (it is on its way)."""
        retry_at = self._retry_at.get(stream_id)
        if retry_at is None:
            return RETRY_DELAYS[0]
        left = retry_at - time.monotonic()
        if left <= 0:
            del self._retry_at[stream_id]
            return RETRY_DELAYS[0]
        return left + 0.2  # just after the predecessor

    async def _settle(self, batch: Sequence[Received], outcomes: Sequence[str]) -> None:
        for outcome, n in Counter(outcomes).items():  # one labelled counter per outcome, not per event
            metrics.EVENTS.labels(self.consumer, outcome).inc(n)
        for r, outcome in zip(batch, outcomes, strict=True):
            if outcome == "wait":
                await r.msg.nak(delay=self._wait_delay(r.stream_id))
            else:
                if outcome == "applied" and self._retry_at:
                    self._retry_at.pop(r.stream_id, None)
                await r.msg.ack()

    async def _one_by_one(self, batch: Sequence[Received]) -> float:
        blocked: set[str] = set()
        for i, r in enumerate(batch):
            if r.stream_id in blocked:
                await r.msg.nak(delay=self._wait_delay(r.stream_id))
                continue
            try:
                [outcome] = await self._apply([r])
            except Exception as exc:
                if is_transient(exc):
                    return await self._outage(batch[i:], exc)
                try:
                    await self._failed(r, exc, blocked)
                except Exception as again:
                    if is_transient(again):
                        return await self._outage(batch[i:], again)
                    raise
                continue
            self._outages = 0
            await self._settle([r], [outcome])
        return 0.0

    async def _failed(self, r: Received, exc: BaseException, blocked: set[str]) -> None:
        # Count failures ourselves: JetStream's delivery count also counts the waits for a predecessor.
        permanent = isinstance(exc, PermanentError)
        failures = 1 if permanent else await self._count_failure(r)
        if permanent or failures >= self._max_deliver:
            async with self._pool.acquire() as conn, conn.transaction():
                outcome = await self.park_in(conn, r, exc, deliveries=failures)
            self._retry_at.pop(r.stream_id, None)
            if outcome == "wait":  # cannot be: it failed as its stream's next event; but never drop it
                await r.msg.nak(delay=RETRY_DELAYS[0])
            else:
                await r.msg.ack()  # parked, or applied or parked meanwhile by another replica
            return
        blocked.add(r.stream_id)
        delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1]
        self._retry_at[r.stream_id] = time.monotonic() + delay
        log.warning("event failed, will retry", event_id=str(r.position.event_id), error=repr(exc),
                    failures=failures, retry_in=delay)
        await r.msg.nak(delay=delay)

    async def park_in(self, conn: asyncpg.Connection, r: Received, exc: BaseException, *, deliveries: int = 1,
                      lock: bool = True) -> str:
        """Dead-letter an event that failed as its stream's next one and park the stream behind it, inside the
        caller's transaction; 'parked', or what it turned out to be meanwhile ('duplicate', 'held', 'wait')."""
        states = await lock_streams(conn, self.consumer, [r.stream_id], lock=lock)
        state = states.setdefault(r.stream_id, _State())
        if r.version <= state.done or (state.held_to is not None and r.version <= state.held_to):
            return "duplicate"
        if state.held_to is not None or r.version != state.done + 1:
            return "wait"
        await self._park(conn, r, exc, deliveries, state)
        await save_states(conn, self.consumer, states)
        return "parked"

    async def _count_failure(self, r: Received) -> int:
        async with self._pool.acquire() as conn:
            return await conn.fetchval(
                "INSERT INTO consumer_failures (consumer, event_id, failures) VALUES ($1, $2, 1)"
                " ON CONFLICT (consumer, event_id) DO UPDATE SET failures = consumer_failures.failures + 1"
                " RETURNING failures", self.consumer, r.position.event_id)

    async def _dead_letter_unplaced(self, msg: Msg, exc: BaseException) -> None:
        async with self._pool.acquire() as conn:
            await self.apply_unplaced(conn, msg, exc)
        await msg.ack()

    async def apply_unplaced(self, conn: asyncpg.Connection, msg: Msg, exc: BaseException | None) -> None:
        """Dead-letter a message that is no event of any stream (no stream id or version in it)."""
        await write_letter(conn, self.consumer, msg.subject, None, 1,
                           describe(exc or ValueError("no stream id or version")), msg.data)
        metrics.EVENTS.labels(self.consumer, "dead-lettered").inc()
        log.error("unreadable message dead-lettered", consumer=self.consumer, subject=msg.subject, error=repr(exc))


HandlersFor = Callable[[str], Mapping[type[DomainEvent], Any]]
"""The handlers that apply a stream's events (by stream id: they depend on the context that publishes it)."""


async def replay_parked(conn: asyncpg.Connection, letter_id: int, handlers_for: HandlersFor, *,
                        skip: bool = False) -> str:
    """Apply a parked stream's dead letter (or, with `skip`, give it up) and then its held successors in version
    order, each exactly once, moving the checkpoint with them; in the caller's transaction, under the stream's
    lock. The parked event failing again raises (the caller's transaction then changes nothing); a successor
    failing again parks the stream at itself. A letter of a stream that is not parked at it is refused."""
    row = await conn.fetchrow("SELECT * FROM dead_letters WHERE id = $1 FOR UPDATE", letter_id)
    if row is None:
        return f"no dead letter {letter_id}"
    consumer, stream_id, version = row["consumer"], row["stream_id"], row["stream_version"]
    if stream_id is None or version is None:  # written before dead letters kept their stream
        position = read_position(row["body"])
        if position is None:
            if skip:
                await conn.execute("DELETE FROM dead_letters WHERE id = $1", letter_id)
                return f"discarded dead letter {letter_id} (not an event of any stream)"
            return (f"dead letter {letter_id} names no stream: it is not an event this system can apply; "
                    "`skip` it to discard it")
        stream_id, version = position.stream_id, position.stream_version
        await conn.execute("UPDATE dead_letters SET event_id = $2, stream_id = $3, stream_version = $4 WHERE id = $1",
                           letter_id, position.event_id, stream_id, version)
    state = (await lock_streams(conn, consumer, [stream_id])).get(stream_id) or _State()
    if version <= state.done:
        if skip:
            await conn.execute("DELETE FROM dead_letters WHERE id = $1", letter_id)
            return f"discarded dead letter {letter_id}; {stream_id} is at version {state.done}"
        return (f"dead letter {letter_id} (version {version} of {stream_id}) is behind its stream, which is at "
                f"version {state.done}: applying it now would undo its successors; `skip` it, or rebuild")
    if version > state.done + 1:
        head = await conn.fetchval("SELECT id FROM dead_letters WHERE consumer = $1 AND stream_id = $2"
                                   " AND stream_version = $3 ORDER BY id LIMIT 1", consumer, stream_id, state.done + 1)
        if head is not None:
            return (f"dead letter {letter_id} is held behind dead letter {head} (version {state.done + 1} of "
                    f"{stream_id}): replay or skip that one; this one follows it")
        return (f"dead letter {letter_id} (version {version} of {stream_id}) waits for version {state.done + 1}, "
                "which has not arrived")
    last = max(state.held_to or version, version)
    letters = await conn.fetch(
        "SELECT DISTINCT ON (stream_version) id, stream_version, body FROM dead_letters"
        " WHERE consumer = $1 AND stream_id = $2 AND stream_version BETWEEN $3 AND $4"
        " ORDER BY stream_version, id", consumer, stream_id, state.done + 1, last)
    applied: list[str] = []
    for n, letter in enumerate(letters):
        if letter["stream_version"] != state.done + 1:
            break  # a gap (cannot happen: held letters are consecutive); what follows stays held
        head = n == 0
        if head and skip:
            outcome = "skipped"
        else:
            try:
                async with conn.transaction():  # a savepoint: a failing successor undoes only itself
                    envelope = Envelope.model_validate_json(letter["body"])
                    event = read_event(envelope)
                    handler = handlers_for(stream_id).get(type(event))
                    if handler is not None:
                        await call_handler(handler, conn, envelope, event)
            except Exception as exc:
                if head or is_transient(exc):
                    raise
                await conn.execute("UPDATE dead_letters SET error = $2, failed_at = now() WHERE id = $1",
                                   letter["id"], describe(exc))
                break
            outcome = "applied"
            applied.append(f"{envelope.event_type} {envelope.event_id}")
        position = read_position(letter["body"])
        state.done, state.event_id, state.changed = letter["stream_version"], position and position.event_id, True
        await conn.execute("DELETE FROM dead_letters WHERE consumer = $1 AND stream_id = $2 AND stream_version = $3",
                           consumer, stream_id, letter["stream_version"])
        log.info("dead letter replayed", consumer=consumer, stream_id=stream_id,
                 stream_version=letter["stream_version"], outcome=outcome)
    if state.held_to is not None and state.done >= state.held_to:
        state.held_to = None
    await save_states(conn, consumer, {stream_id: state})
    parked = "" if state.held_to is None else f"; parked again at version {state.done + 1} (its error is updated)"
    what = f"skipped dead letter {letter_id}" if skip else f"replayed {applied[0]}"
    held = applied[1:] if not skip else applied
    return (f"{what}" + (f", then {len(held)} held: {', '.join(held)}" if held else "")
            + f"; {stream_id} at version {state.done}{parked}")
