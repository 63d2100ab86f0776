"""Digests: for an organisation whose channel is in digest mode, the notices held for it are gathered, per class
(and, for email, per recipient), into one `class.digest` notice, sent on that channel like any other.

Run every `DIGEST_INTERVAL` by one replica at a time (an advisory lock); gathering, the digest's deliveries and
marking the held ones `digested` commit together, so nothing is gathered twice or dropped.
"""
from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

import asyncpg
import structlog

from ttct.contracts.types import SendingOrganisation

from notification.adapters import notices as notices_db
from notification.aio import stop_if_cancelled
from notification.domain.kinds import digest_notice

log = structlog.get_logger("notification.digests")

_HELD = {
    "webhook": """
        SELECT d.delivery_id, d.endpoint_id AS target, NULL AS contact_name, n.notice_id, n.organisation_code,
               n.centre, n.class_id, n.body, 'organisation' AS recipient, coalesce(o.name, n.organisation_code) AS name
        FROM deliveries d JOIN notices n USING (notice_id) LEFT JOIN organisations o ON o.code = n.organisation_code
        WHERE d.status = 'held' ORDER BY n.position FOR UPDATE OF d SKIP LOCKED""",
    "email": """
        SELECT d.delivery_id, d.address AS target, d.contact_name, n.notice_id, n.organisation_code, n.centre,
               n.class_id, n.body, n.recipient, coalesce(o.name, n.organisation_code) AS name
        FROM email_deliveries d JOIN notices n USING (notice_id)
        LEFT JOIN organisations o ON o.code = n.organisation_code
        WHERE d.status = 'held' ORDER BY n.position FOR UPDATE OF d SKIP LOCKED""",
}


async def build(pool: asyncpg.Pool, now: datetime) -> int:
    """Gather every held notice into digests; return how many digests were made."""
    made = 0
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('notification-digests'))"):
            return 0
        for channel, query in _HELD.items():
            groups: dict[tuple, list[asyncpg.Record]] = defaultdict(list)
            for row in await conn.fetch(query):
                groups[(row["organisation_code"], row["class_id"], row["recipient"])].append(row)
            for (org, class_id, recipient), rows in groups.items():
                items, seen = [], set()
                for row in rows:
                    if row["notice_id"] not in seen:
                        seen.add(row["notice_id"])
                        items.append(json.loads(row["body"]))
                title = next((i["data"].get("class_title") for i in items if i["data"].get("class_title")), None)
                digest = digest_notice(SendingOrganisation(code=org, name=rows[0]["name"]), rows[0]["centre"],
                                       class_id, title, channel, recipient, items, now)
                await notices_db.add(conn, digest)  # a digest notice gets no deliveries of its own here
                targets = {(r["target"], r["contact_name"]) for r in rows}
                if channel == "webhook":
                    await conn.execute(
                        "INSERT INTO deliveries (delivery_id, notice_id, endpoint_id)"
                        " SELECT gen_random_uuid(), $1, e FROM unnest($2::uuid[]) AS e ON CONFLICT DO NOTHING",
                        digest.notice_id, [t for t, _ in targets])
                    await conn.execute("UPDATE deliveries SET status = 'digested' WHERE delivery_id = ANY($1::uuid[])",
                                       [r["delivery_id"] for r in rows])
                else:
                    await conn.execute(
                        "INSERT INTO email_deliveries (delivery_id, notice_id, address, contact_name)"
                        " SELECT gen_random_uuid(), $1, a, n FROM unnest($2::text[], $3::text[]) AS r(a, n)"
                        " ON CONFLICT DO NOTHING",
                        digest.notice_id, [t for t, _ in targets], [n for _, n in targets])
                    await conn.execute(
                        "UPDATE email_deliveries SET status = 'digested' WHERE delivery_id = ANY($1::uuid[])",
                        [r["delivery_id"] for r in rows])
                made += 1
                log.info("digest made", notice_id=str(digest.notice_id), organisation=org, channel=channel,
                         class_id=str(class_id), notices=len(items))
        if made:
            await conn.execute("SELECT pg_notify($1, '')", notices_db.WAKE_CHANNEL)
    return made


async def run(pool: asyncpg.Pool, interval: float, clock: Callable[[], datetime]) -> None:
    while True:
        stop_if_cancelled()
        await asyncio.sleep(interval)
        try:
            await build(pool, clock())
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("cannot build digests; will retry", error=repr(exc))
