"""Who succeeded whom among the sending organisations (OrganisationsMerged, OrganisationDissolved), and what
follows in this service: the addressee of a notice on a given day, the codes a successor reads for, and the
re-addressing of what was still on its way to a predecessor once the change is in force.

A chain (a merged into b, b later into c) is followed to its end by `organisation_addressee` (schema.py).
"""
from __future__ import annotations

import json
from datetime import date, datetime

import asyncpg
from ttct.contracts.types import ReorganisationDecision, SendingOrganisation
from ttct.papers.labels import local_day

from notification.adapters import emails, endpoints
from notification.adapters.notices import WAKE_CHANNEL, email_recipients, lock_organisation
from notification.domain.kinds import HEAD_TOO


async def save(conn: asyncpg.Connection, predecessors: list[str], successor: str, change: str, effective_on: date,
               decision: ReorganisationDecision, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO organisation_successions SELECT p, $2, $3, $4, $5::jsonb, $6 FROM unnest($1::text[]) AS p"
        " ON CONFLICT (predecessor_code) DO NOTHING", predecessors, successor, change, effective_on,
        json.dumps(decision.model_dump(mode="json"), ensure_ascii=False), at)


async def rename(conn: asyncpg.Connection, code: str, name: str, at: datetime) -> None:
    await conn.execute("UPDATE organisations SET name = $2, updated_at = $3 WHERE code = $1 AND updated_at <= $3",
                       code, name, at)


async def move(conn: asyncpg.Connection, code: str, parent_code: str) -> None:
    await conn.execute("UPDATE organisations SET parent_code = $2 WHERE code = $1", code, parent_code)


async def addressees(conn: asyncpg.Connection, codes: list[str], at: datetime) -> dict[str, SendingOrganisation]:
    """For each of `codes` that was merged or dissolved by `at`: the organisation that receives its mail then."""
    rows = await conn.fetch(
        "SELECT c.code, a.addressee, coalesce(o.name, a.addressee) AS name FROM unnest($1::text[]) AS c(code)"
        " CROSS JOIN LATERAL (SELECT organisation_addressee(c.code, $2, $3) AS addressee) a"
        " LEFT JOIN organisations o ON o.code = a.addressee WHERE a.addressee <> c.code", sorted(set(codes)),
        local_day(at), at)
    return {r["code"]: SendingOrganisation(code=r["addressee"], name=r["name"]) for r in rows}


async def family(db: asyncpg.Pool | asyncpg.Connection, code: str, on: date) -> list[str]:
    """`code` and every organisation whose people and mail it took over by `on` (through chains too)."""
    rows = await db.fetch(
        "WITH RECURSIVE tree(code) AS (SELECT $1::text UNION SELECT s.predecessor_code FROM organisation_successions s"
        " JOIN tree t ON s.successor_code = t.code WHERE s.effective_on <= $2) SELECT code FROM tree ORDER BY code",
        code, on)
    return [r["code"] for r in rows]


async def succeeded_by(db: asyncpg.Pool | asyncpg.Connection, code: str, on: date) -> dict | None:
    """Whom `code`'s mail goes to on `on`, if it was merged or dissolved by then."""
    row = await db.fetchrow(
        "SELECT s.predecessor_code, organisation_addressee(s.predecessor_code, $2, now()) AS successor_code, s.change,"
        " s.effective_on, s.decision ->> 'number' AS decision_number FROM organisation_successions s"
        " WHERE s.predecessor_code = $1 AND s.effective_on <= $2", code, on)
    return dict(row) if row else None


# The notices of predecessors (merged or dissolved by $1) still on their way: some delivery pending or held, none
# delivered or sent in a digest. Locked, so a dispatcher's claim and this do not both act on one.
_STRANDED = """
SELECT n.notice_id, n.notice_type, n.recipient, n.organisation_code AS predecessor,
       organisation_addressee(n.organisation_code, $1, $2) AS successor
FROM notices n JOIN organisation_successions s ON s.predecessor_code = n.organisation_code AND s.effective_on <= $1
WHERE n.recipient IN ('organisation', 'head')
  AND (EXISTS (SELECT 1 FROM deliveries d WHERE d.notice_id = n.notice_id AND d.status IN ('pending', 'held'))
       OR EXISTS (SELECT 1 FROM email_deliveries m WHERE m.notice_id = n.notice_id AND m.status IN ('pending', 'held')))
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notice_id = n.notice_id AND d.status IN ('delivered', 'digested'))
  AND NOT EXISTS (SELECT 1 FROM email_deliveries m WHERE m.notice_id = n.notice_id
                  AND m.status IN ('delivered', 'digested'))
ORDER BY n.position
FOR UPDATE OF n
"""


async def readdress(conn: asyncpg.Connection, now: datetime, *, email: bool = False) -> tuple[int, int]:
    """Once a merge or dissolution is in force (`now` on or after its effective day): each notice still on its way
    to a predecessor is addressed to the successor (its pending deliveries cancelled, visibly, and queued again to
    the successor's endpoints and contacts; it enters the successor's feed), then the predecessors' endpoints are
    disabled. Doing it again finds nothing left to do. Returns (notices re-addressed, endpoints disabled)."""
    on = local_day(now)
    stranded = await conn.fetch(_STRANDED, on, now)
    for row in stranded:
        note = f"re-addressed to {row['successor']}: {row['predecessor']} was merged or dissolved"
        for table in ("deliveries", "email_deliveries"):
            await conn.execute(
                f"UPDATE {table} SET status = 'cancelled', last_error = $2, lease_until = NULL, lease_token = NULL"
                " WHERE notice_id = $1 AND status IN ('pending', 'held')", row["notice_id"], note)
        await conn.execute("UPDATE notices SET organisation_code = $2, feed_position = NULL WHERE notice_id = $1",
                           row["notice_id"], row["successor"])
        if row["recipient"] == "organisation":
            await conn.execute(
                "INSERT INTO deliveries (delivery_id, notice_id, endpoint_id) SELECT gen_random_uuid(), $1, endpoint_id"
                " FROM webhook_endpoints WHERE organisation_code = $2 AND enabled"
                " ON CONFLICT (notice_id, endpoint_id) DO NOTHING", row["notice_id"], row["successor"])
        if email:
            await lock_organisation(conn, row["successor"])
            contacts = await conn.fetchval("SELECT contacts FROM organisations WHERE code = $1", row["successor"])
            await emails.add(conn, row["notice_id"], email_recipients(
                json.loads(contacts) if contacts else [], row["recipient"], row["notice_type"] in HEAD_TOO))
    disabled = 0
    for endpoint in await conn.fetch(
            "SELECT e.endpoint_id, e.organisation_code, organisation_addressee(e.organisation_code, $1, $2)"
            " AS successor FROM webhook_endpoints e JOIN organisation_successions s"
            " ON s.predecessor_code = e.organisation_code AND s.effective_on <= $1 WHERE e.enabled", on, now):
        await endpoints.disable(conn, endpoint["endpoint_id"],
                                f"organisation-succeeded: {endpoint['organisation_code']} was merged or dissolved; "
                                f"its notices go to {endpoint['successor']}")
        disabled += 1
    if stranded:
        await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)
    return len(stranded), disabled


async def preview(db: asyncpg.Pool | asyncpg.Connection, predecessors: list[str], successor: str) -> dict:
    """What a merge or dissolution would move here: each predecessor's enabled endpoints (disabled from the
    effective day) and notices still on their way (re-addressed then); the successor's enabled endpoints."""
    rows = await db.fetch(
        "SELECT c.code, (SELECT coalesce(json_agg(json_build_object('endpoint_id', e.endpoint_id, 'url', e.url)"
        " ORDER BY e.created_at), '[]') FROM webhook_endpoints e WHERE e.organisation_code = c.code AND e.enabled)"
        " AS endpoints, (SELECT count(DISTINCT d.notice_id) FROM deliveries d JOIN notices n USING (notice_id)"
        " WHERE n.organisation_code = c.code AND d.status IN ('pending', 'held'))::int AS pending_notices"
        " FROM unnest($1::text[]) AS c(code)", [*predecessors, successor])
    found = {r["code"]: {"code": r["code"], "endpoints": json.loads(r["endpoints"]),
                         "pending_notices": r["pending_notices"]} for r in rows}
    return {"successor": found[successor], "predecessors": [found[c] for c in predecessors]}
