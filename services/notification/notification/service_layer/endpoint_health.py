"""An endpoint that keeps failing is disabled, and its organisation's contacts are told by email.

"Keeps failing": its last `threshold` finished deliveries all failed (each after its whole retry schedule,
about three days by default), none delivered in between. Its pending deliveries are cancelled visibly, as after
a 410; the notices stay readable in the feed and can be replayed once the organisation fixes its receiver.
"""
from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

import asyncpg
import structlog

from notification.adapters import endpoints, notices
from notification.adapters.deliveries import Claimed
from notification.domain.notices import Notice, iso, notice_id_for

log = structlog.get_logger("notification.endpoint_health")
ENDPOINT_DISABLED = "endpoint.disabled"
CONTACTS = "contacts"  # every contact of the organisation with an address

_LAST_FINISHED = """
SELECT d.status FROM deliveries d
CROSS JOIN LATERAL (SELECT max(attempt_id) AS last FROM delivery_attempts a WHERE a.delivery_id = d.delivery_id) a
WHERE d.endpoint_id = $1 AND d.status IN ('delivered', 'failed')
ORDER BY a.last DESC NULLS LAST
LIMIT $2
"""


def disabled_notice(endpoint_id: UUID, organisation: str, name: str, url: str, reason: str, at: datetime) -> Notice:
    """The email to the organisation's contacts; one per endpoint (its id derives from the endpoint's)."""
    notice_id = notice_id_for(ENDPOINT_DISABLED, endpoint_id, f"{organisation}#{CONTACTS}")
    body = {"type": ENDPOINT_DISABLED, "timestamp": iso(at), "data": {
        "notice_id": str(notice_id), "recipient": CONTACTS, "endpoint_id": str(endpoint_id), "url": url,
        "reason": reason, "sending_organisation": {"code": organisation, "name": name}}}
    return Notice(notice_id, ENDPOINT_DISABLED, endpoint_id, organisation, "", None, None,
                  json.dumps(body, ensure_ascii=False, separators=(",", ":")), CONTACTS)


async def after_failure(pool: asyncpg.Pool, item: Claimed, threshold: int, *, email: bool = True) -> bool:
    """Called after a delivery failed for good; True if the endpoint was disabled now."""
    async with pool.acquire() as conn, conn.transaction():
        statuses = [r["status"] for r in await conn.fetch(_LAST_FINISHED, item.endpoint_id, threshold)]
        if len(statuses) < threshold or any(s != "failed" for s in statuses):
            return False
        row = await conn.fetchrow(
            "SELECT e.url, e.enabled, coalesce(o.name, e.organisation_code) AS name, now() AS now"
            " FROM webhook_endpoints e LEFT JOIN organisations o ON o.code = e.organisation_code"
            " WHERE e.endpoint_id = $1 FOR UPDATE OF e", item.endpoint_id)
        if row is None or not row["enabled"]:
            return False
        reason = f"{threshold} deliveries in a row failed after every retry"
        await endpoints.disable(conn, item.endpoint_id, reason)
        notice = disabled_notice(item.endpoint_id, item.organisation, row["name"], row["url"], reason, row["now"])
        await notices.add(conn, notice, email=email)
    log.warning("endpoint disabled: it keeps failing; the organisation's contacts are emailed",
                endpoint_id=str(item.endpoint_id), organisation=item.organisation, failures=threshold)
    return True
