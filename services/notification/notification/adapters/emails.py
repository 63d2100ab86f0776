"""Email deliveries: claimed under a lease and recorded like webhook deliveries (see deliveries.py), one per
notice and address."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from notification.adapters.committed_order import EMAIL_ATTEMPTS
from notification.adapters.deliveries import AttemptResult
from notification.domain.backoff import Decision, Outcome

_CLAIM = """
WITH due AS (
    SELECT delivery_id, lease_until AS old_lease FROM email_deliveries
    WHERE status = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE email_deliveries d
SET attempts = d.attempts + 1, lease_until = now() + make_interval(secs => $2), lease_token = $3
FROM due, notices n
WHERE d.delivery_id = due.delivery_id AND n.notice_id = d.notice_id
RETURNING d.delivery_id, d.notice_id, d.address, d.contact_name, d.attempts, due.old_lease, n.body,
          n.organisation_code
"""
_INTERRUPTED = "no result recorded: the dispatcher stopped during this attempt"


@dataclass(frozen=True)
class ClaimedEmail:
    delivery_id: UUID
    notice_id: UUID
    address: str
    contact_name: str | None
    organisation: str
    body: str
    attempt: int
    token: UUID


async def add(conn: asyncpg.Connection, notice_id: UUID, recipients: list[tuple[str, str | None]],
              status: str = "pending") -> int:
    return await add_each(conn, [(notice_id, address, name, status) for address, name in recipients])


async def add_each(conn: asyncpg.Connection, rows: Sequence[tuple[UUID, str, str | None, str]]) -> int:
    """Queue emails, each (notice, address, contact's name, first status), in one statement; how many were new
    (an address a notice is queued to already adds nothing)."""
    if not rows:
        return 0
    status = await conn.execute(
        "INSERT INTO email_deliveries (delivery_id, notice_id, address, contact_name, status)"
        " SELECT gen_random_uuid(), i, a, n, s FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])"
        " AS r(i, a, n, s) ON CONFLICT (notice_id, address) DO NOTHING",
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])
    return int(status.rsplit(" ", 1)[1])


async def claim(pool: asyncpg.Pool, limit: int, lease: float, token: UUID) -> list[ClaimedEmail]:
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(_CLAIM, limit, lease, token)
        lost = [(r["delivery_id"], r["attempts"] - 1, r["old_lease"]) for r in rows if r["old_lease"] is not None]
        if lost:
            await _log_interrupted(conn, lost)
    return [ClaimedEmail(r["delivery_id"], r["notice_id"], r["address"], r["contact_name"], r["organisation_code"],
                         r["body"], r["attempts"], token) for r in rows]


async def _log_interrupted(conn: asyncpg.Connection, lost: list[tuple[UUID, int, datetime | None]]) -> None:
    await conn.executemany(
        "INSERT INTO email_attempts (delivery_id, attempt_no, attempted_at, error, outcome)"
        " VALUES ($1, $2, coalesce($3, now()), $4, 'interrupted')",
        [(delivery_id, attempt, at, _INTERRUPTED) for delivery_id, attempt, at in lost])


async def release(pool: asyncpg.Pool, claimed: list[ClaimedEmail]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "UPDATE email_deliveries d SET lease_until = NULL, lease_token = NULL, next_attempt_at = now()"
            " FROM unnest($1::uuid[], $2::uuid[]) AS mine(delivery_id, token)"
            " WHERE d.delivery_id = mine.delivery_id AND d.lease_token = mine.token AND d.status = 'pending'"
            " RETURNING d.delivery_id, d.attempts",
            [c.delivery_id for c in claimed], [c.token for c in claimed])
        await _log_interrupted(conn, [(r["delivery_id"], r["attempts"], None) for r in rows])


async def finish(pool: asyncpg.Pool, claimed: ClaimedEmail, result: AttemptResult, decision: Decision) -> None:
    outcome = decision.outcome
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO email_attempts (delivery_id, attempt_no, attempted_at, smtp_code, latency_ms, error, outcome)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            claimed.delivery_id, claimed.attempt, result.attempted_at, result.status_code, result.latency_ms,
            result.error, outcome.value)
        if outcome is Outcome.delivered:
            await conn.execute(
                "UPDATE email_deliveries SET status = 'delivered', delivered_at = now(), last_error = NULL,"
                " lease_until = NULL, lease_token = NULL WHERE delivery_id = $1 AND status = 'pending'",
                claimed.delivery_id)
            return
        await conn.execute(
            "UPDATE email_deliveries SET status = $3, last_error = $4, lease_until = NULL, lease_token = NULL,"
            " next_attempt_at = now() + make_interval(secs => $5)"
            " WHERE delivery_id = $1 AND lease_token = $2 AND status = 'pending'",
            claimed.delivery_id, claimed.token, "pending" if outcome is Outcome.retry else "failed",
            result.error, decision.delay or 0.0)


async def seconds_until_due(pool: asyncpg.Pool) -> float | None:
    return await pool.fetchval(
        "SELECT extract(epoch FROM min(next_attempt_at) - now())::float8 FROM email_deliveries"
        " WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < now())")


async def for_organisation(pool: asyncpg.Pool, organisation: str, notice_id: UUID | None, after: int,
                           limit: int, outcome: str | None = None) -> list[dict]:
    """The organisation's email attempts after the log position `after`, in the order they committed."""
    await EMAIL_ATTEMPTS.sequence_committed(pool)
    rows = await pool.fetch(
        "SELECT a.log_position, a.attempt_id, a.attempted_at, a.attempt_no, a.smtp_code, a.latency_ms, a.error,"
        " a.outcome, d.delivery_id, d.notice_id, d.address, d.status AS delivery_status, n.notice_type, n.recipient"
        " FROM email_attempts a JOIN email_deliveries d USING (delivery_id) JOIN notices n USING (notice_id)"
        " WHERE n.organisation_code = $1 AND ($2::uuid IS NULL OR d.notice_id = $2) AND a.log_position > $3"
        " AND ($5::text IS NULL OR a.outcome = $5) ORDER BY a.log_position LIMIT $4",
        organisation, notice_id, after, limit, outcome)
    return [dict(r) for r in rows]
