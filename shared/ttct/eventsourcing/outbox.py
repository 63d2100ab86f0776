"""The outbox relay: publishes committed events to JetStream, in position order, pipelined.

Why no cursor: an outbox that tails `position > last_published` skips a row whose transaction commits after a
later-numbered one. Here a row leaves `outbox` only once JetStream has acknowledged it, so a late commit is
simply found on the next poll. Per-stream order holds because a stream's next event can only be appended after
the previous one committed, so it has a higher position and is published after it.

Only one relay per database publishes at a time, so replicas cannot interleave: the leader holds a session
advisory lock on a connection of its own and reads and removes the outbox through that same connection. When that
connection drops (a PostgreSQL restart or failover, a terminated backend) the lock is gone, and so is the leader's
next statement: it stops publishing and contends again like any standby. A standby that loses its connection
while waiting just opens another: `run` never ends but by cancellation.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

import asyncpg
import structlog
from nats.js import JetStreamContext
from opentelemetry import trace

from ttct.operations.telemetry import context_from, spans_can_record

log = structlog.get_logger("ttct.eventsourcing.outbox")
tracer = trace.get_tracer("ttct.eventsourcing.outbox")

_RELAY_LOCK = 7_243_002
# What publishing needs of an event read by the database, not by parsing each envelope here: the relay is a
# service's busiest loop after its requests and consumers.
_FETCH = """
SELECT o.position, e.envelope::text AS envelope, e.event_id::text AS event_id, e.event_type, e.stream_id,
       e.envelope ->> 'province' AS province, e.envelope ->> 'centre' AS centre,
       e.envelope ->> 'traceparent' AS traceparent, e.envelope ->> 'tracestate' AS tracestate
FROM outbox o JOIN events e ON e.position = o.position
ORDER BY o.position LIMIT $1
"""


def subject_of(envelope: Mapping[str, str]) -> str:
    context = envelope["stream_id"].split(":", 1)[0]
    return f"ttct.{envelope['province']}.{envelope['centre']}.{context}.{envelope['event_type']}"


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        *,
        batch_size: int = 1000,
        poll_interval: float = 0.2,
        ack_timeout: float = 10.0,
    ) -> None:
        self._pool = pool
        self._js = js
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._ack_timeout = ack_timeout
        self._wake = asyncio.Event()
        self.published = 0
        self.leading = False  # holds the lock right now (the operator's and the tests' view)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Publish while leader, until cancelled; a lost connection sends it back to waiting for leadership."""
        failures = 0
        while True:
            try:
                await self._lead_when_elected()
                failures = 0
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as exc:  # PostgreSQL restarting, failing over, or this backend terminated
                failures += 1
                log.warning("outbox relay lost its database connection; contending again", error=repr(exc),
                            attempt=failures)
                await asyncio.sleep(min(0.1 * 2**failures, 5.0))

    async def _lead_when_elected(self) -> None:
        async with self._pool.acquire() as leader:
            try:
                while not await leader.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK):
                    await asyncio.sleep(self._poll_interval * 5)
                self.leading = True
                log.info("outbox relay leads")
                await self._publish_forever(leader)
            finally:
                was_leading, self.leading = self.leading, False
                if was_leading:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(leader.execute("SELECT pg_advisory_unlock($1)", _RELAY_LOCK), 2)

    async def _publish_forever(self, leader: asyncpg.Connection) -> None:
        failures = 0
        while True:
            try:
                sent = await self.publish_pending(leader)
                failures = 0
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as exc:  # a NATS outage or a failed statement: retry with backoff, never skip
                if not await _still_holds_lock(leader):
                    raise RuntimeError("outbox relay lost its lock") from exc  # the lock went with the connection
                failures += 1
                log.warning("outbox publish failed", error=repr(exc), attempt=failures)
                await asyncio.sleep(min(0.1 * 2**failures, 5.0))
                continue
            if sent < self._batch_size:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval)

    async def publish_pending(self, leader: asyncpg.Connection | None = None) -> int:
        """Publish one batch of pending events; return how many were acknowledged and removed. `leader` is the
        connection holding the lock: reading and removing through it fails once the lock is lost."""
        async with _connection(self._pool, leader) as conn:
            rows = await conn.fetch(_FETCH, self._batch_size)
        if not rows:
            return 0
        futures = []
        traced = spans_can_record()  # the headers carry the trace either way; a span only if one is recorded
        for row in rows:
            headers = {"Nats-Msg-Id": row["event_id"]}
            if row["traceparent"]:
                headers["traceparent"] = row["traceparent"]
            with tracer.start_as_current_span(
                f"publish {row['event_type']}",
                context=context_from(row["traceparent"], row["tracestate"]),
                kind=trace.SpanKind.PRODUCER,
                attributes={"messaging.system": "nats", "ttct.event_id": row["event_id"]},
            ) if traced else contextlib.nullcontext():
                futures.append(
                    await self._js.publish_async(subject_of(row), row["envelope"].encode(), headers=headers)
                )
        results = await asyncio.wait_for(
            asyncio.gather(*futures, return_exceptions=True), self._ack_timeout
        )
        acked = []
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                # Stop at the first failure: what follows is retried after it, keeping per-stream order
                # (JetStream drops the already-stored ones as duplicates by Nats-Msg-Id).
                log.warning("event not acknowledged by JetStream", position=row["position"], error=repr(result))
                break
            acked.append(row["position"])
        if acked:
            async with _connection(self._pool, leader) as conn:
                await conn.execute("DELETE FROM outbox WHERE position = ANY($1::bigint[])", acked)
        self.published += len(acked)
        if len(acked) < len(rows):
            raise RuntimeError(f"{len(rows) - len(acked)} events not acknowledged; retrying")
        return len(acked)

    async def lag_seconds(self) -> float:
        async with self._pool.acquire() as conn:
            age = await conn.fetchval("SELECT extract(epoch FROM now() - min(enqueued_at)) FROM outbox")
        return float(age or 0.0)


async def _still_holds_lock(leader: asyncpg.Connection) -> bool:
    try:  # a connection the server dropped is detached from the pool: even asking whether it is closed raises
        return bool(await asyncio.wait_for(leader.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = $1)", _RELAY_LOCK), 5))
    except Exception:
        return False


@contextlib.asynccontextmanager
async def _connection(pool: asyncpg.Pool, held: asyncpg.Connection | None):
    if held is not None:
        yield held
    else:
        async with pool.acquire() as conn:
            yield conn
