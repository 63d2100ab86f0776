"""Notices and their deliveries: written in the consumer's transaction, read by the HTTP API."""
from __future__ import annotations

import json

import asyncpg

from notification.domain.notices import Notice

WAKE_CHANNEL = "notification_deliveries"

async def add(conn: asyncpg.Connection, notice: Notice) -> int:
    """Store a notice and a pending delivery to each enabled endpoint of its organisation; return how many.

    A notice already stored (the same event applied again, e.g. after its checkpoint was lost) adds nothing.
    """
    inserted = await conn.fetchval(
        "INSERT INTO notices (notice_id, notice_type, event_id, organisation_code, centre, class_id, learner_id, body)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING true",
        notice.notice_id, notice.notice_type, notice.event_id, notice.organisation_code, notice.centre,
        notice.class_id, notice.learner_id, notice.body,
    )
    if not inserted:
        return 0
    status = await conn.execute(
        "INSERT INTO deliveries (delivery_id, notice_id, endpoint_id)"
        " SELECT gen_random_uuid(), $1, endpoint_id FROM webhook_endpoints WHERE organisation_code = $2 AND enabled"
        " ON CONFLICT (notice_id, endpoint_id) DO NOTHING",
        notice.notice_id, notice.organisation_code,
    )
    count = int(status.rsplit(" ", 1)[1])
    if count:
        # Delivered by PostgreSQL only when this transaction commits (and dropped if it rolls back), so no
        # dispatcher, in this replica or another, wakes before the deliveries are visible.
        await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)
    return count


_LIST = """
SELECT n.position, n.notice_id, n.notice_type, n.created_at, n.body,
       coalesce(json_agg(json_build_object(
           'endpoint_id', d.endpoint_id, 'url', e.url, 'status', d.status, 'attempts', d.attempts,
           'next_attempt_at', CASE WHEN d.status = 'pending' THEN d.next_attempt_at END,
           'delivered_at', d.delivered_at, 'last_error', d.last_error) ORDER BY d.created_at)
           FILTER (WHERE d.delivery_id IS NOT NULL), '[]') AS deliveries
FROM notices n
LEFT JOIN deliveries d ON d.notice_id = n.notice_id
LEFT JOIN webhook_endpoints e ON e.endpoint_id = d.endpoint_id
WHERE n.organisation_code = $1 AND n.position > $2
GROUP BY n.position, n.notice_id
ORDER BY n.position
LIMIT $3
"""


async def list_for(pool: asyncpg.Pool, organisation: str, after: int, limit: int) -> list[dict]:
    rows = await pool.fetch(_LIST, organisation, after, limit)
    return [
        {**dict(r), "payload": json.loads(r["body"]), "deliveries": json.loads(r["deliveries"])} for r in rows
    ]
