"""Webhook endpoints registered by sending organisations."""
from __future__ import annotations

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


async def list_for(pool: asyncpg.Pool, organisation: str) -> list[dict]:
    rows = await pool.fetch(
        f"SELECT {_PUBLIC} FROM webhook_endpoints WHERE organisation_code = $1 ORDER BY created_at, endpoint_id",
        organisation,
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
