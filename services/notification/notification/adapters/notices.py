"""Notices and their deliveries: written in the consumer's transaction, read by the HTTP API."""
from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

import asyncpg
from ttct.operations.telemetry import current_trace_headers
from ttct.papers.labels import local_day

from notification.adapters import emails
from notification.domain.kinds import HEAD_TOO
from notification.domain.notices import ORGANISATION, Notice

WAKE_CHANNEL = "notification_deliveries"


def email_recipients(contacts: list[dict], recipient: str, head_has_own: bool = False) -> list[tuple[str, str | None]]:
    """Who receives a notice by email: the head of the party committee for a `head` notice; for the
    organisation's own, its other contacts with an address, and the head only if there is no one else and the
    head is not sent a notice of its own (`head_has_own`: a kind of `kinds.HEAD_TOO`)."""
    with_email = [c for c in contacts if c.get("email")]
    heads = [c for c in with_email if c.get("is_head")]
    if recipient == ORGANISATION:
        chosen = [c for c in with_email if not c.get("is_head")] or ([] if head_has_own else heads)
    elif recipient == "contacts":
        chosen = with_email
    else:
        chosen = heads
    return [(c["email"], c.get("name")) for c in chosen]


async def lock_organisation(conn: asyncpg.Connection, organisation: str) -> None:
    """Serialise, per organisation, creating notices with reading its contacts and registering its contacts with
    emailing its earlier notices: the two come on different streams, applied by concurrent transactions, and
    without this each could miss the other's uncommitted rows (an email never queued)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('notification-organisation:' || $1))", organisation)


# One statement stores the notice, a delivery to each enabled endpoint (organisation notices) and wakes the
# dispatchers: one round trip instead of four on every notice (a profile under load had notices.add as the largest
# of notification's own costs). Digest mode per channel decides a delivery's first status; `email_mode` is handed
# back for the email path. pg_notify is delivered only when the consumer's transaction commits (dropped on
# rollback), so no dispatcher, in this replica or another, wakes before the deliveries are visible.
_ADD = """
WITH addressee AS (
    SELECT CASE WHEN $14::date IS NULL THEN $4 ELSE organisation_addressee($4, $14, $15) END AS code
), stored AS (
    INSERT INTO notices (notice_id, notice_type, event_id, organisation_code, centre, class_id, learner_id, body,
                         recipient, traceparent)
    SELECT $1, $2, $3, addressee.code, $5, $6, $7, $8, $9, $10 FROM addressee
    ON CONFLICT DO NOTHING RETURNING notice_id, organisation_code
), modes AS (
    SELECT channel, mode FROM channel_preferences WHERE organisation_code = (SELECT code FROM addressee)
), queued AS (
    INSERT INTO deliveries (delivery_id, notice_id, endpoint_id, status)
    SELECT gen_random_uuid(), stored.notice_id, e.endpoint_id,
           CASE WHEN $11 AND (SELECT mode FROM modes WHERE channel = 'webhook') = 'digest' THEN 'held'
                ELSE 'pending' END
    FROM stored JOIN webhook_endpoints e ON e.organisation_code = stored.organisation_code AND e.enabled
    WHERE $12
    ON CONFLICT (notice_id, endpoint_id) DO NOTHING RETURNING 1
), counted AS (
    SELECT (SELECT count(*) FROM stored) AS stored, (SELECT count(*) FROM queued) AS queued
)
SELECT stored, queued, (SELECT mode FROM modes WHERE channel = 'email') AS email_mode,
       CASE WHEN queued > 0 THEN pg_notify($13, '') END AS woken, (SELECT code FROM addressee) AS addressee
FROM counted
"""


async def add(conn: asyncpg.Connection, notice: Notice, *, email: bool = False, at: datetime | None = None) -> int:
    """Store a notice and a pending delivery to each enabled endpoint of its organisation (organisation
    notices) and, with `email`, to each of its email recipients; return how many deliveries. With `at` (when the
    event that caused it happened), a notice to an organisation merged or dissolved by then is its successor's.

    A notice already stored (the same event applied again, e.g. after its checkpoint was lost) adds nothing.
    """
    digestible = notice.class_id is not None
    row = await conn.fetchrow(
        _ADD, notice.notice_id, notice.notice_type, notice.event_id, notice.organisation_code, notice.centre,
        notice.class_id, notice.learner_id, notice.body, notice.recipient,
        current_trace_headers().get("traceparent"), digestible, notice.recipient == ORGANISATION, WAKE_CHANNEL,
        None if at is None else local_day(at), at)
    if not row["stored"]:
        return 0
    count = row["queued"]
    if email:
        await lock_organisation(conn, row["addressee"])
        contacts = await conn.fetchval("SELECT contacts FROM organisations WHERE code = $1", row["addressee"])
        status = "held" if digestible and row["email_mode"] == "digest" else "pending"
        queued = await emails.add(conn, notice.notice_id,
                                  email_recipients(json.loads(contacts) if contacts else [], notice.recipient,
                                                   notice.notice_type in HEAD_TOO),
                                  status=status)
        if queued:
            await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)
        count += queued
    return count


async def email_unsent(conn: asyncpg.Connection, organisation: str, contacts: list[dict], window_days: float) -> int:
    """Queue emails for the organisation's recent notices that no one was emailed yet: those created before its
    contacts were known (its registration and the event that caused them travel on different streams)."""
    rows = await conn.fetch(
        "SELECT notice_id, notice_type, recipient FROM notices n WHERE organisation_code = $1"
        " AND recipient IN ('organisation', 'head') AND created_at > now() - make_interval(secs => $2)"
        " AND NOT EXISTS (SELECT 1 FROM email_deliveries m WHERE m.notice_id = n.notice_id) ORDER BY position",
        organisation, window_days * 86400)
    count = 0
    for row in rows:
        count += await emails.add(conn, row["notice_id"], email_recipients(contacts, row["recipient"],
                                                                           row["notice_type"] in HEAD_TOO))
    if count:
        await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)
    return count


_LIST = """
SELECT n.feed_position, n.position, n.notice_id, n.notice_type, n.recipient, n.created_at, n.body,
       coalesce(json_agg(json_build_object(
           'endpoint_id', d.endpoint_id, 'url', e.url, 'status', d.status, 'attempts', d.attempts,
           'next_attempt_at', CASE WHEN d.status = 'pending' THEN d.next_attempt_at END,
           'delivered_at', d.delivered_at, 'last_error', d.last_error) ORDER BY d.created_at)
           FILTER (WHERE d.delivery_id IS NOT NULL), '[]') AS deliveries,
       (SELECT coalesce(json_agg(json_build_object(
           'address', m.address, 'status', m.status, 'attempts', m.attempts, 'delivered_at', m.delivered_at,
           'last_error', m.last_error) ORDER BY m.address), '[]')
        FROM email_deliveries m WHERE m.notice_id = n.notice_id) AS emails
FROM notices n
LEFT JOIN deliveries d ON d.notice_id = n.notice_id
LEFT JOIN webhook_endpoints e ON e.endpoint_id = d.endpoint_id
WHERE n.organisation_code = $1 AND n.feed_position > $2
  AND ($4::text IS NULL OR n.notice_type = $4) AND ($5::uuid IS NULL OR n.class_id = $5)
  AND ($6::uuid IS NULL OR n.learner_id = $6) AND ($7::text IS NULL OR n.recipient = $7)
GROUP BY n.feed_position, n.notice_id
ORDER BY n.feed_position
LIMIT $3
"""


async def list_for(pool: asyncpg.Pool, organisation: str, after: int, limit: int, *, notice_type: str | None = None,
                   class_id: UUID | None = None, learner_id: UUID | None = None,
                   recipient: str | None = None) -> list[dict]:
    """The organisation's notices after the feed position `after`, in the order they were committed, filtered.
    Not by `position`: that is taken at insert, so a notice whose transaction commits late would show up behind
    a cursor already handed out and be skipped for good."""
    await sequence_feed(pool)
    rows = await pool.fetch(_LIST, organisation, after, limit, notice_type, class_id, learner_id, recipient)
    return [
        {**dict(r), "payload": json.loads(r["body"]), "deliveries": json.loads(r["deliveries"]),
         "emails": json.loads(r["emails"])} for r in rows
    ]


_SEQUENCE = """
UPDATE notices n SET feed_position = s.p
FROM (SELECT notice_id, nextval('notices_feed_seq') AS p
      FROM (SELECT notice_id FROM notices WHERE feed_position IS NULL ORDER BY position) AS committed) AS s
WHERE n.notice_id = s.notice_id
"""


async def sequence_feed(pool: asyncpg.Pool) -> None:
    """Give committed notices their feed positions. One sequencer at a time (the lock lasts to its commit), so
    positions become visible in increasing order and a cursor never passes a notice that shows up later."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('notification-feed-sequencer'))")
        await conn.execute(_SEQUENCE)


async def feed_position_of(pool: asyncpg.Pool, organisation: str, position: int) -> int:
    """Where to resume the log after a notice named by its `position` (the deprecated `after`): before the first
    notice, in the committed order, that came after it by position, so nothing is skipped (one may repeat)."""
    await sequence_feed(pool)
    return await pool.fetchval(
        "SELECT coalesce((SELECT min(feed_position) - 1 FROM notices WHERE organisation_code = $1 AND position > $2),"
        " (SELECT max(feed_position) FROM notices WHERE organisation_code = $1), 0)", organisation, position)


async def feed(pool: asyncpg.Pool, organisation: str, after: int, limit: int) -> list[tuple[int, str]]:
    """The organisation's own notices after a feed position: (position, the exact body its webhooks carry)."""
    await sequence_feed(pool)
    rows = await pool.fetch(
        "SELECT feed_position, body FROM notices WHERE organisation_code = $1 AND recipient = 'organisation'"
        " AND feed_position > $2 ORDER BY feed_position LIMIT $3", organisation, after, limit)
    return [(r["feed_position"], r["body"]) for r in rows]
