"""The delivery log: every attempt, as an organisation reads it over HTTP, in the order the attempts committed
(adapters/committed_order.py says why not by `attempt_id`)."""
from __future__ import annotations

from uuid import UUID

import asyncpg

from notification.adapters.committed_order import WEBHOOK_ATTEMPTS

_ATTEMPTS = """
SELECT a.log_position, a.attempt_id, a.attempted_at, a.attempt_no, a.status_code, a.latency_ms, a.error, a.outcome,
       d.delivery_id, d.notice_id, d.endpoint_id, e.url AS endpoint_url, d.status AS delivery_status
FROM delivery_attempts a
JOIN deliveries d ON d.delivery_id = a.delivery_id
JOIN webhook_endpoints e ON e.endpoint_id = d.endpoint_id
WHERE e.organisation_code = $1
  AND ($2::uuid IS NULL OR d.endpoint_id = $2)
  AND ($3::uuid IS NULL OR d.notice_id = $3)
  AND a.log_position > $4
  AND ($6::text IS NULL OR a.outcome = $6)
ORDER BY a.log_position
LIMIT $5
"""


async def attempts(pool: asyncpg.Pool, organisation: str, *, endpoint_id: UUID | None = None,
                   notice_id: UUID | None = None, outcome: str | None = None, after: int = 0,
                   limit: int = 100) -> list[dict]:
    """The organisation's attempts after the log position `after`."""
    await WEBHOOK_ATTEMPTS.sequence_committed(pool)
    rows = await pool.fetch(_ATTEMPTS, organisation, endpoint_id, notice_id, after, limit, outcome)
    return [dict(r) for r in rows]
