"""What an organisation does with one of its webhook endpoints besides rotating its secret: send it a test notice,
disable it, enable it again; and what it can read of its own profile (the contacts its emails go to)."""
from __future__ import annotations

import json
from uuid import UUID

import asyncpg

from notification.adapters import endpoints, notices
from notification.domain.notices import Notice

_PUBLIC = "endpoint_id, organisation_code, url, description, enabled, disabled_reason, created_at, disabled_at"


async def send_test(pool: asyncpg.Pool, organisation: str, endpoint_id: UUID, notice: Notice) -> bool | None:
    """Store the test notice and one delivery of it, to this endpoint only (not its other endpoints, not its feed,
    not by email); None if the organisation has no such endpoint, False if it is disabled (nothing stored)."""
    async with pool.acquire() as conn, conn.transaction():
        enabled = await conn.fetchval("SELECT enabled FROM webhook_endpoints WHERE endpoint_id = $1"
                                      " AND organisation_code = $2", endpoint_id, organisation)
        if not enabled:
            return enabled
        await notices.add(conn, notice)  # recipient `test`: no delivery is queued to the other endpoints
        await conn.execute("INSERT INTO deliveries (delivery_id, notice_id, endpoint_id) VALUES ($1, $2, $3)",
                           notice.notice_id, notice.notice_id, endpoint_id)
        await conn.execute("SELECT pg_notify($1, '')", notices.WAKE_CHANNEL)
    return True


async def disable(pool: asyncpg.Pool, organisation: str, endpoint_id: UUID, reason: str) -> dict | None:
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT true FROM webhook_endpoints WHERE endpoint_id = $1 AND organisation_code"
                                   " = $2 FOR UPDATE", endpoint_id, organisation):
            return None
        await endpoints.disable(conn, endpoint_id, reason)
        return dict(await conn.fetchrow(f"SELECT {_PUBLIC} FROM webhook_endpoints WHERE endpoint_id = $1",
                                        endpoint_id))


async def enable(pool: asyncpg.Pool, organisation: str, endpoint_id: UUID) -> dict | None:
    """Deliveries cancelled while it was disabled stay cancelled: the organisation replays what it wants again.
    Raises endpoints.EndpointExists if another enabled endpoint of the organisation has the same URL."""
    try:
        row = await pool.fetchrow(
            "UPDATE webhook_endpoints SET enabled = true, disabled_reason = NULL, disabled_at = NULL"
            f" WHERE endpoint_id = $1 AND organisation_code = $2 RETURNING {_PUBLIC}", endpoint_id, organisation)
    except asyncpg.UniqueViolationError as exc:
        raise endpoints.EndpointExists(str(endpoint_id)) from exc
    return dict(row) if row else None


async def profile(pool: asyncpg.Pool, organisation: str) -> dict | None:
    """The organisation as the province's directory registered it: name, kind, parent and contacts."""
    row = await pool.fetchrow("SELECT code, name, kind, parent_code, contacts, registered_at FROM organisations WHERE code = $1",
                              organisation)
    return {**dict(row), "contacts": json.loads(row["contacts"] or "[]")} if row else None
