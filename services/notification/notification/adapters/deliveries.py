"""Claiming due deliveries under a lease, and recording each attempt's outcome.

A claim is one statement: `FOR UPDATE SKIP LOCKED` keeps replicas claiming at the same moment apart, and the
committed lease keeps them apart while the request is in flight (no transaction stays open during HTTP). A
replica that dies mid-request leaves a lease that expires; the delivery is then claimed again, and the lost
attempt is written to the log as interrupted.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from notification.adapters import endpoints
from notification.domain.backoff import Decision, Outcome

# Per endpoint at most $2 in flight (counting other replicas' live leases), so one slow receiver cannot take
# every slot; across endpoints the longest-waiting deliveries go first.
_CLAIM = """
WITH due AS (
    SELECT d.delivery_id, d.lease_until AS old_lease
    FROM webhook_endpoints e
    CROSS JOIN LATERAL (
        SELECT delivery_id, next_attempt_at, lease_until FROM deliveries d
        WHERE d.endpoint_id = e.endpoint_id AND d.status = 'pending' AND d.next_attempt_at <= now()
          AND (d.lease_until IS NULL OR d.lease_until < now())
        ORDER BY d.next_attempt_at
        LIMIT greatest(0, $2 - (SELECT count(*) FROM deliveries f WHERE f.endpoint_id = e.endpoint_id
                                AND f.status = 'pending' AND f.lease_until >= now()))
        FOR UPDATE SKIP LOCKED
    ) d
    WHERE e.enabled
    ORDER BY d.next_attempt_at
    LIMIT $1
)
UPDATE deliveries d
SET attempts = d.attempts + 1, lease_until = now() + make_interval(secs => $3), lease_token = $4
FROM due, notices n, webhook_endpoints e
WHERE d.delivery_id = due.delivery_id AND n.notice_id = d.notice_id AND e.endpoint_id = d.endpoint_id
RETURNING d.delivery_id, d.notice_id, d.endpoint_id, d.attempts, due.old_lease, n.body, e.url, e.secret,
          e.organisation_code, CASE WHEN e.previous_secret_until > now() THEN e.previous_secret END AS previous,
          n.traceparent
"""

_INTERRUPTED = "no result recorded: the dispatcher stopped during this attempt"


@dataclass(frozen=True)
class Claimed:
    delivery_id: UUID
    notice_id: UUID
    endpoint_id: UUID
    organisation: str
    url: str
    secret: str
    body: str
    attempt: int
    token: UUID
    previous_secret: str | None = None
    traceparent: str | None = None


@dataclass(frozen=True)
class AttemptResult:
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    retry_after: float | None = None


async def claim(pool: asyncpg.Pool, limit: int, per_endpoint: int, lease: float, token: UUID) -> list[Claimed]:
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(_CLAIM, limit, per_endpoint, lease, token)
        lost = [(r["delivery_id"], r["attempts"] - 1, r["old_lease"]) for r in rows if r["old_lease"] is not None]
        if lost:
            await _log_interrupted(conn, lost)
    return [Claimed(r["delivery_id"], r["notice_id"], r["endpoint_id"], r["organisation_code"], r["url"],
                    r["secret"], r["body"], r["attempts"], token, r["previous"], r["traceparent"]) for r in rows]


async def _log_interrupted(conn: asyncpg.Connection, lost: list[tuple[UUID, int, datetime | None]]) -> None:
    await conn.executemany(
        "INSERT INTO delivery_attempts (delivery_id, attempt_no, attempted_at, error, outcome)"
        " VALUES ($1, $2, coalesce($3, now()), $4, 'interrupted')",
        [(delivery_id, attempt, at, _INTERRUPTED) for delivery_id, attempt, at in lost],
    )


async def release(pool: asyncpg.Pool, claimed: list[Claimed]) -> None:
    """Give back deliveries whose attempt was cut short (shutdown): due again at once, the loss logged."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "UPDATE deliveries d SET lease_until = NULL, lease_token = NULL, next_attempt_at = now()"
            " FROM unnest($1::uuid[], $2::uuid[]) AS mine(delivery_id, token)"
            " WHERE d.delivery_id = mine.delivery_id AND d.lease_token = mine.token AND d.status = 'pending'"
            " RETURNING d.delivery_id, d.attempts",
            [c.delivery_id for c in claimed], [c.token for c in claimed],
        )
        await _log_interrupted(conn, [(r["delivery_id"], r["attempts"], None) for r in rows])


async def finish(pool: asyncpg.Pool, claimed: Claimed, result: AttemptResult, decision: Decision) -> None:
    """Record the attempt and move the delivery on, in one transaction."""
    outcome = decision.outcome
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO delivery_attempts (delivery_id, attempt_no, attempted_at, status_code, latency_ms, error,"
            " outcome) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            claimed.delivery_id, claimed.attempt, result.attempted_at, result.status_code, result.latency_ms,
            result.error, outcome.value,
        )
        if outcome is Outcome.delivered:
            # Whoever got the 2xx wins, even a replica whose lease ran out: the receiver has the notice.
            await conn.execute(
                "UPDATE deliveries SET status = 'delivered', delivered_at = now(), last_error = NULL,"
                " lease_until = NULL, lease_token = NULL WHERE delivery_id = $1 AND status = 'pending'",
                claimed.delivery_id)
            return
        status = "pending" if outcome is Outcome.retry else "failed"
        error = result.error or f"HTTP {result.status_code}"
        await conn.execute(
            "UPDATE deliveries SET status = $3, last_error = $4, lease_until = NULL, lease_token = NULL,"
            " next_attempt_at = now() + make_interval(secs => $5)"
            " WHERE delivery_id = $1 AND lease_token = $2 AND status = 'pending'",
            claimed.delivery_id, claimed.token, status, error, decision.delay or 0.0)
        if outcome is Outcome.endpoint_gone:
            await endpoints.disable(conn, claimed.endpoint_id, "the receiver answered 410 Gone")


async def seconds_until_due(pool: asyncpg.Pool) -> float | None:
    """How long until the next unleased pending delivery is due (<= 0: now), None if there is none."""
    return await pool.fetchval(
        "SELECT extract(epoch FROM min(next_attempt_at) - now())::float8 FROM deliveries"
        " WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < now())")
