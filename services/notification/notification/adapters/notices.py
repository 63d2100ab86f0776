"""Notices and their deliveries: written in the consumer's transaction, read by the HTTP API."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
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
    await lock_organisations(conn, [organisation])


async def lock_organisations(conn: asyncpg.Connection, organisations: Sequence[str]) -> None:
    """`lock_organisation` for each, in one statement and in one (sorted) order, so two runs that take several
    never wait on each other in a cycle."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('notification-organisation:' || o))"
                       " FROM unnest($1::text[]) WITH ORDINALITY AS u(o, n) ORDER BY n", sorted(set(organisations)))


@dataclass(frozen=True)
class Outgoing:
    """A notice to store, with what its event tells: when it happened (a notice to an organisation merged or
    dissolved by then is its successor's; None: as addressed) and the trace its deliveries join."""

    notice: Notice
    at: datetime | None = None
    traceparent: str | None = None


# One statement stores a run's notices (in the order given), a delivery to each enabled endpoint of the
# organisation each is addressed to (organisation notices), and wakes the dispatchers once: a few round trips a
# run instead of a few a notice (a profile under load had adding notices as the largest of notification's own
# costs). Digest mode per organisation and channel decides a delivery's first status; the email mode is handed
# back for the email path. pg_notify is delivered only when the consumer's transaction commits (dropped on
# rollback), so no dispatcher, in this replica or another, wakes before the deliveries are visible.
_ADD = """
WITH given AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::uuid[], $7::uuid[],
                         $8::text[], $9::text[], $10::text[], $11::date[], $12::timestamptz[]) WITH ORDINALITY
        AS g(notice_id, notice_type, event_id, code, centre, class_id, learner_id, body, recipient, traceparent,
             day, at, n)
), stored AS (
    INSERT INTO notices (notice_id, notice_type, event_id, organisation_code, centre, class_id, learner_id, body,
                         recipient, traceparent)
    SELECT notice_id, notice_type, event_id,
           CASE WHEN day IS NULL THEN code ELSE organisation_addressee(code, day, at) END,
           centre, class_id, learner_id, body, recipient, traceparent
    FROM given ORDER BY n
    ON CONFLICT DO NOTHING RETURNING notice_id, organisation_code, recipient, class_id
), modes AS (
    SELECT organisation_code, channel, mode FROM channel_preferences
    WHERE organisation_code IN (SELECT organisation_code FROM stored)
), queued AS (
    INSERT INTO deliveries (delivery_id, notice_id, endpoint_id, status)
    SELECT gen_random_uuid(), s.notice_id, e.endpoint_id,
           CASE WHEN s.class_id IS NOT NULL AND m.mode = 'digest' THEN 'held' ELSE 'pending' END
    FROM stored s JOIN webhook_endpoints e ON e.organisation_code = s.organisation_code AND e.enabled
    LEFT JOIN modes m ON m.organisation_code = s.organisation_code AND m.channel = 'webhook'
    WHERE s.recipient = 'organisation'
    ON CONFLICT (notice_id, endpoint_id) DO NOTHING RETURNING notice_id
), counted AS (
    SELECT notice_id, count(*) AS queued FROM queued GROUP BY notice_id
)
SELECT s.notice_id, s.organisation_code AS addressee, coalesce(c.queued, 0) AS queued, m.mode AS email_mode,
       (SELECT CASE WHEN count(*) > 0 THEN pg_notify($13, '') END FROM queued) AS woken
FROM stored s LEFT JOIN counted c USING (notice_id)
LEFT JOIN modes m ON m.organisation_code = s.organisation_code AND m.channel = 'email'
"""


async def add(conn: asyncpg.Connection, notice: Notice, *, email: bool = False, at: datetime | None = None) -> int:
    """Store a notice and a pending delivery to each enabled endpoint of its organisation (organisation
    notices) and, with `email`, to each of its email recipients; return how many deliveries. With `at` (when the
    event that caused it happened), a notice to an organisation merged or dissolved by then is its successor's.

    A notice already stored (the same event applied again, e.g. after its checkpoint was lost) adds nothing.
    """
    _, queued = await add_all(conn, [Outgoing(notice, at, current_trace_headers().get("traceparent"))], email=email)
    return queued


async def add_all(conn: asyncpg.Connection, outgoing: Sequence[Outgoing], *, email: bool = False) -> tuple[int, int]:
    """`add` for many notices at once, in the order given: (notices stored now, deliveries queued). The
    organisations' locks are taken together, in order, after the notices are stored (as `add` does for one)."""
    if not outgoing:
        return 0, 0
    notices = [o.notice for o in outgoing]
    rows = await conn.fetch(
        _ADD, [n.notice_id for n in notices], [n.notice_type for n in notices], [n.event_id for n in notices],
        [n.organisation_code for n in notices], [n.centre for n in notices], [n.class_id for n in notices],
        [n.learner_id for n in notices], [n.body for n in notices], [n.recipient for n in notices],
        [o.traceparent for o in outgoing], [None if o.at is None else local_day(o.at) for o in outgoing],
        [o.at for o in outgoing], WAKE_CHANNEL)
    count = sum(r["queued"] for r in rows)
    if email and rows:
        await lock_organisations(conn, [r["addressee"] for r in rows])
        found = await conn.fetch("SELECT code, contacts FROM organisations WHERE code = ANY($1::text[])",
                                 sorted({r["addressee"] for r in rows}))
        contacts = {c["code"]: json.loads(c["contacts"]) if c["contacts"] else [] for c in found}
        by_id = {n.notice_id: n for n in notices}
        queue = []
        for r in rows:
            notice = by_id[r["notice_id"]]
            status = "held" if notice.class_id is not None and r["email_mode"] == "digest" else "pending"
            queue += [(notice.notice_id, address, name, status) for address, name in email_recipients(
                contacts.get(r["addressee"], []), notice.recipient, notice.notice_type in HEAD_TOO)]
        queued = await emails.add_each(conn, queue)
        if queued:
            await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)
        count += queued
    return len(rows), count


async def email_unsent(conn: asyncpg.Connection, organisation: str, contacts: list[dict], window_days: float) -> int:
    """Queue emails for the organisation's recent notices that no one was emailed yet: those created before its
    contacts were known (its registration and the event that caused them travel on different streams)."""
    rows = await conn.fetch(
        "SELECT notice_id, notice_type, recipient FROM notices n WHERE organisation_code = $1"
        " AND recipient IN ('organisation', 'head') AND created_at > now() - make_interval(secs => $2)"
        " AND NOT EXISTS (SELECT 1 FROM email_deliveries m WHERE m.notice_id = n.notice_id) ORDER BY position",
        organisation, window_days * 86400)
    count = await emails.add_each(conn, [
        (row["notice_id"], address, name, "pending")
        for row in rows for address, name in email_recipients(contacts, row["recipient"],
                                                              row["notice_type"] in HEAD_TOO)])
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
