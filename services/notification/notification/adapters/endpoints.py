"""Webhook endpoints registered by sending organisations."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

_PUBLIC = "endpoint_id, organisation_code, url, description, enabled, disabled_reason, created_at, disabled_at"


class EndpointExists(Exception):
    pass


async def add(pool: asyncpg.Pool, endpoint_id: UUID, organisation: str, url: str, description: str | None,
              secret: str) -> dict:
    try:
        row = await pool.fetchrow(
            "INSERT INTO webhook_endpoints (endpoint_id, organisation_code, url, description, secret)"
            f" VALUES ($1, $2, $3, $4, $5) RETURNING {_PUBLIC}",
            endpoint_id, organisation, url, description, secret,
        )
    except asyncpg.UniqueViolationError as exc:
        raise EndpointExists(url) from exc
    return dict(row)


async def list_for(pool: asyncpg.Pool, organisation: str, *, enabled: bool | None = None,
                   after: tuple[datetime, UUID] | None = None, limit: int | None = None) -> list[dict]:
    """The organisation's endpoints in the order they were registered, filtered, after the key `after`."""
    after_at, after_id = after or (None, None)
    rows = await pool.fetch(
        f"SELECT {_PUBLIC} FROM webhook_endpoints WHERE organisation_code = $1"
        " AND ($2::boolean IS NULL OR enabled = $2)"
        " AND ($3::timestamptz IS NULL OR (created_at, endpoint_id) > ($3, $4::uuid))"
        " ORDER BY created_at, endpoint_id LIMIT $5",
        organisation, enabled, after_at, after_id, limit,
    )
    return [dict(r) for r in rows]


async def disable(conn: asyncpg.Connection, endpoint_id: UUID, reason: str) -> None:
    """Stop sending to an endpoint; its other pending deliveries are cancelled, visibly, not dropped."""
    await conn.execute(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, disabled_at = now()"
        " WHERE endpoint_id = $1 AND enabled",
        endpoint_id, reason,
    )
    await conn.execute(
        "UPDATE deliveries SET status = 'cancelled', last_error = $2, lease_until = NULL, lease_token = NULL"
        " WHERE endpoint_id = $1 AND status = 'pending'",
        endpoint_id, f"endpoint disabled: {reason}",
    )


async def rotate(pool: asyncpg.Pool, organisation: str, endpoint_id: UUID, secret: str, overlap: float) -> dict | None:
    """Replace the secret; the old one keeps signing (beside the new) for `overlap` seconds."""
    row = await pool.fetchrow(
        "UPDATE webhook_endpoints SET previous_secret = secret, secret = $3,"
        " previous_secret_until = now() + make_interval(secs => $4)"
        f" WHERE endpoint_id = $1 AND organisation_code = $2 RETURNING {_PUBLIC}, previous_secret_until",
        endpoint_id, organisation, secret, overlap)
    return dict(row) if row else None


_REPLAY = """
WITH chosen AS (
    SELECT n.notice_id, e.endpoint_id FROM notices n
    JOIN webhook_endpoints e ON e.organisation_code = n.organisation_code AND e.enabled
    WHERE n.organisation_code = $1 AND n.recipient = 'organisation'
      AND ($2::uuid IS NULL OR n.notice_id = $2) AND ($3::timestamptz IS NULL OR n.created_at >= $3)
      AND ($4::uuid IS NULL OR e.endpoint_id = $4)
), upserted AS (
    INSERT INTO deliveries (delivery_id, notice_id, endpoint_id)
    SELECT gen_random_uuid(), notice_id, endpoint_id FROM chosen
    ON CONFLICT (notice_id, endpoint_id) DO UPDATE SET
        status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL, delivered_at = NULL
    WHERE deliveries.status <> 'pending'
    RETURNING 1
)
SELECT count(*) FROM upserted
"""


async def replay(conn: asyncpg.Connection, organisation: str, *, notice_id: UUID | None = None,
                 since: object = None, endpoint_id: UUID | None = None) -> int:
    """Queue notices again (one, or all since a time) to the organisation's enabled endpoints, with their own
    ids (receivers deduplicate on webhook-id); a delivery still pending is left as it is."""
    count = await conn.fetchval(_REPLAY, organisation, notice_id, since, endpoint_id)
    if count:
        await conn.execute("SELECT pg_notify('notification_deliveries', '')")
    return count
