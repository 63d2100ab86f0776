"""Idempotent, ordered application of received events to a service's projections.

Each fetched batch is applied in one transaction, in stream order, together with a checkpoint per source
aggregate stream (last applied version and event id). So:
- an event at or below its stream's checkpoint was already applied (a redelivery): acked, not applied again;
- an event more than one ahead waits (NAK with a delay) until its predecessor is applied: order per aggregate
  holds even after retries;
- a batch that fails is retried event by event; a transient error NAKs with a growing delay; an event that
  cannot be read, raises `PermanentError`, or fails `max_deliver` times (counted in `consumer_failures`, since
  JetStream's delivery count also counts waits) is written to `dead_letters` with the error, its checkpoint
  moves past it, and the consumer goes on.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from nats.aio.msg import Msg
from opentelemetry import trace

from ttct.contracts import DomainEvent, Envelope, read_event
from ttct.operations import metrics
from ttct.operations.telemetry import context_from

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


@dataclass(frozen=True)
class Received:
    msg: Msg
    envelope: Envelope
    event: DomainEvent


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

    async def handle_batch(self, msgs: Sequence[Msg]) -> None:
        received: list[Received] = []
        for msg in msgs:
            try:
                envelope = Envelope.model_validate_json(msg.data)
                received.append(Received(msg, envelope, read_event(envelope)))
            except Exception as exc:  # unreadable: no retry can fix it
                await self._dead_letter(msg, None, exc)
        if not received:
            return
        with metrics.PROCESSING.labels(self.consumer).time():
            try:
                outcomes = await self._apply(received)
            except Exception as exc:
                log.info("batch failed, retrying event by event", error=repr(exc), size=len(received))
                await self._one_by_one(received)
                return
            await self._settle(received, outcomes)

    async def _apply(self, batch: Sequence[Received]) -> list[str]:
        """Apply in one transaction; return per event 'applied', 'duplicate' or 'wait'."""
        outcomes: list[str] = []
        if self._prepare is not None:  # e.g. the batch's learners' keys, in one query before the transaction
            await self._prepare([r.event for r in batch])
        async with self._pool.acquire() as conn, conn.transaction():
            checkpoints = dict(
                await conn.fetch(
                    "SELECT stream_id, stream_version FROM consumer_checkpoints"
                    " WHERE consumer = $1 AND stream_id = ANY($2::text[]) FOR UPDATE",
                    self.consumer,
                    list({r.envelope.stream_id for r in batch}),
                )
            )
            advanced: dict[str, Envelope] = {}
            run: list[Received] = []  # consecutive events for one batched handler, not yet applied
            for r in batch:
                env = r.envelope
                done = checkpoints.get(env.stream_id, 0)
                if env.stream_version <= done:
                    outcomes.append("duplicate")
                    continue
                if env.stream_version > done + 1:
                    outcomes.append("wait")
                    continue
                handler = self._handlers.get(type(r.event))
                if run and handler is not None and handler is not self._handlers.get(type(run[0].event)):
                    await self._apply_run(conn, run)
                    run = []
                if handler is not None and is_batched(handler):
                    run.append(r)
                elif handler is not None:
                    with structlog.contextvars.bound_contextvars(
                        event_id=str(env.event_id), event_type=env.event_type, centre=env.centre
                    ), self._span(env, activate=True):
                        await handler(conn, env, r.event)
                checkpoints[env.stream_id] = env.stream_version
                advanced[env.stream_id] = env
                outcomes.append("applied")
            if run:
                await self._apply_run(conn, run)
            await self._save_checkpoints(conn, advanced.values())
        self._after_commit()
        return outcomes

    def _span(self, env: Envelope, *, activate: bool):
        """The event's `process` span, a child of the command that caused it (its context is in the envelope)."""
        start = tracer.start_as_current_span if activate else tracer.start_span
        return start(f"process {env.event_type}", context=context_from(env.traceparent, env.tracestate),
                     kind=trace.SpanKind.CONSUMER,
                     attributes={"messaging.system": "nats", "ttct.eventsourcing.consumer": self.consumer,
                                 "ttct.event_id": str(env.event_id)})

    async def _apply_run(self, conn: asyncpg.Connection, run: Sequence[Received]) -> None:
        # Each event keeps its own span in its own trace, open while the run is applied.
        spans = [self._span(r.envelope, activate=False) for r in run]
        try:
            with structlog.contextvars.bound_contextvars(event_type=run[0].envelope.event_type, events=len(run)):
                await self._handlers[type(run[0].event)](conn, [(r.envelope, r.event) for r in run])
        finally:
            for span in spans:
                span.end()

    async def _save_checkpoints(self, conn: asyncpg.Connection, envelopes: Sequence[Envelope] | object) -> None:
        envs = list(envelopes)  # type: ignore[call-overload]
        if not envs:
            return
        await conn.execute(
            """
            INSERT INTO consumer_checkpoints (consumer, stream_id, stream_version, event_id)
            SELECT $1, s, v, e FROM unnest($2::text[], $3::int[], $4::uuid[]) AS u(s, v, e)
            ON CONFLICT (consumer, stream_id)
            DO UPDATE SET stream_version = excluded.stream_version, event_id = excluded.event_id
            WHERE consumer_checkpoints.stream_version < excluded.stream_version
            """,
            self.consumer,
            [e.stream_id for e in envs],
            [e.stream_version for e in envs],
            [e.event_id for e in envs],
        )

    async def _settle(self, batch: Sequence[Received], outcomes: Sequence[str]) -> None:
        for r, outcome in zip(batch, outcomes, strict=True):
            metrics.EVENTS.labels(self.consumer, outcome).inc()
            if outcome == "wait":
                await r.msg.nak(delay=RETRY_DELAYS[0])
            else:
                await r.msg.ack()

    async def _one_by_one(self, batch: Sequence[Received]) -> None:
        blocked: set[str] = set()
        for r in batch:
            if r.envelope.stream_id in blocked:
                await r.msg.nak(delay=RETRY_DELAYS[0])
                continue
            try:
                [outcome] = await self._apply([r])
            except Exception as exc:
                # Count failures ourselves: JetStream's delivery count also counts the waits for a predecessor.
                failures = 1 if isinstance(exc, PermanentError) else await self._failed(r.envelope)
                if isinstance(exc, PermanentError) or failures >= self._max_deliver:
                    await self._dead_letter(r.msg, r.envelope, exc, failures)
                else:
                    blocked.add(r.envelope.stream_id)
                    delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1]
                    log.warning("event failed, will retry", event_id=str(r.envelope.event_id),
                                error=repr(exc), failures=failures, retry_in=delay)
                    await r.msg.nak(delay=delay)
                continue
            await self._settle([r], [outcome])

    async def _failed(self, envelope: Envelope) -> int:
        async with self._pool.acquire() as conn:
            return await conn.fetchval(
                "INSERT INTO consumer_failures (consumer, event_id, failures) VALUES ($1, $2, 1)"
                " ON CONFLICT (consumer, event_id) DO UPDATE SET failures = consumer_failures.failures + 1"
                " RETURNING failures", self.consumer, envelope.event_id)

    async def _dead_letter(self, msg: Msg, envelope: Envelope | None, exc: BaseException,
                           deliveries: int = 1) -> None:
        """Record the event and the error, move its stream's checkpoint past it, and ack it."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO dead_letters (consumer, subject, event_id, stream_id, stream_version, deliveries, error, body)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                self.consumer,
                msg.subject,
                envelope.event_id if envelope else None,
                envelope.stream_id if envelope else None,
                envelope.stream_version if envelope else None,
                deliveries,
                f"{type(exc).__name__}: {exc}",
                msg.data,
            )
            if envelope is not None:
                await self._save_checkpoints(conn, [envelope])
                await conn.execute("DELETE FROM consumer_failures WHERE consumer = $1 AND event_id = $2",
                                   self.consumer, envelope.event_id)
        metrics.EVENTS.labels(self.consumer, "dead-lettered").inc()
        log.error("event dead-lettered", consumer=self.consumer, subject=msg.subject,
                  event_id=str(envelope.event_id) if envelope else None, error=repr(exc))
        await msg.ack()
