"""The projections of other services' events: classes, and each sending organisation's learners.

Writers take the consumer's connection (they run inside its transaction, with its checkpoint); readers take the
pool. Every write is an upsert, so applying an event twice would change nothing.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from ttct.contracts import ClassOpened, Envelope, LearnerEnrolled, ScoreRecorded
from ttct.contracts.attendance_recorded import AttendanceRecorded
from ttct.contracts.learner_result_finalised import LearnerResultFinalised
from ttct.contracts.learner_waitlisted import LearnerWaitlisted
from ttct.contracts.sending_organisation_registered import SendingOrganisationRegistered
from ttct.contracts.types import DispatchDecision, PersonalData, SealedPersonalData, SendingOrganisation
from ttct.eventsourcing.consumer import rounds
from ttct.http.idempotency import forget_learner
from ttct.privacy.personal import ERASED, birth_date, display_name

from notification.domain.kinds import AffectedLearner


async def save_class(conn: asyncpg.Connection, centre: str, event: ClassOpened, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO classes (class_id, centre, programme_type, title, starts_on, ends_on, venue, opened_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (class_id) DO NOTHING",
        event.class_id, centre, event.programme_type.value, event.title, event.starts_on, event.ends_on,
        event.venue, at,
    )


async def save_organisations(conn: asyncpg.Connection, named: Sequence[tuple[SendingOrganisation, datetime]]) -> None:
    """The sending organisations' names as a run of events gives them (each with the event's time), in one
    statement: per code the latest name wins, as when the events are applied one by one (a later event's name
    replaces an earlier one, an older one never does)."""
    latest: dict[str, tuple[SendingOrganisation, datetime]] = {}
    for organisation, at in named:
        if organisation.code not in latest or at >= latest[organisation.code][1]:
            latest[organisation.code] = (organisation, at)
    if not latest:
        return
    await conn.execute(
        "INSERT INTO organisations (code, name, updated_at)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at"
        " WHERE organisations.updated_at <= excluded.updated_at",
        list(latest), [o.name for o, _ in latest.values()], [at for _, at in latest.values()])


async def save_registration(conn: asyncpg.Connection, event: SendingOrganisationRegistered, at: datetime) -> None:
    """The directory's details, upserted by code (a re-registration replaces them)."""
    contacts = json.dumps([c.model_dump(mode="json") for c in event.contacts], ensure_ascii=False)
    await conn.execute(
        "INSERT INTO organisations (code, name, updated_at, kind, parent_code, contacts, registered_at)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $3)"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at,"
        " kind = excluded.kind, parent_code = excluded.parent_code, contacts = excluded.contacts,"
        " registered_at = excluded.registered_at"
        " WHERE organisations.registered_at IS NULL OR organisations.registered_at <= excluded.registered_at",
        event.code, event.name, at, event.kind, event.parent_code, contacts,
    )


def _decision(decision: DispatchDecision | None) -> str | None:
    return None if decision is None else json.dumps(decision.model_dump(mode="json"), ensure_ascii=False)


async def dispatch_decisions(db: asyncpg.Pool | asyncpg.Connection, class_id: UUID,
                             organisations: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The dispatch decisions that sent each organisation's learners with a final result in the class (by
    organisation code), each once, by date and number: what its result report cites."""
    rows = await db.fetch(
        "SELECT DISTINCT l.organisation_code, l.dispatch_decision, l.dispatch_decision ->> 'signed_on' AS signed_on,"
        " l.dispatch_decision ->> 'number' AS number FROM organisation_learners l"
        " JOIN final_results f ON f.class_id = l.class_id AND f.learner_id = l.learner_id"
        " AND f.organisation_code = l.organisation_code WHERE l.class_id = $1"
        " AND l.dispatch_decision IS NOT NULL AND ($2::text[] IS NULL OR l.organisation_code = ANY($2))"
        " ORDER BY organisation_code, signed_on, number", class_id, organisations)
    found: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        found.setdefault(r["organisation_code"], []).append(json.loads(r["dispatch_decision"]))
    return found


def _sealed(profile: SealedPersonalData | None) -> str | None:
    return profile.model_dump_json() if profile is not None else None


# A round of a run's enrolments (`_ENROLLED`) or waiting places (`_WAITLISTED`), one row per array element.
_ENROLLED = """
INSERT INTO organisation_learners (organisation_code, class_id, learner_id, centre, full_name, class_title,
                                   date_of_birth, seat_number, enrolled_at, status, dispatch_decision, profile)
SELECT o, c, l, ce, n, t, b, s, a, 'enrolled', d, p
FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::date[], $8::int[],
            $9::timestamptz[], $10::jsonb[], $11::jsonb[]) AS u(o, c, l, ce, n, t, b, s, a, d, p)
ON CONFLICT (organisation_code, class_id, learner_id) DO UPDATE SET
    full_name = excluded.full_name, class_title = excluded.class_title,
    date_of_birth = excluded.date_of_birth, seat_number = excluded.seat_number,
    enrolled_at = excluded.enrolled_at, status = 'enrolled',
    dispatch_decision = coalesce(excluded.dispatch_decision, organisation_learners.dispatch_decision),
    profile = coalesce(excluded.profile, organisation_learners.profile)
"""
_WAITLISTED = """
INSERT INTO organisation_learners (organisation_code, class_id, learner_id, centre, full_name, class_title,
                                   date_of_birth, status, dispatch_decision, profile)
SELECT o, c, l, ce, n, t, b, 'waitlisted', d, p
FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::date[], $8::jsonb[],
            $9::jsonb[]) AS u(o, c, l, ce, n, t, b, d, p)
ON CONFLICT (organisation_code, class_id, learner_id) DO UPDATE SET status = 'waitlisted',
    dispatch_decision = coalesce(excluded.dispatch_decision, organisation_learners.dispatch_decision),
    profile = coalesce(excluded.profile, organisation_learners.profile)
"""
Placed = tuple[Envelope, LearnerEnrolled | LearnerWaitlisted, PersonalData | None]
"""An enrolment or a waiting place, with the learner's personal data opened (None once erased)."""


async def save_placed(conn: asyncpg.Connection, items: Sequence[Placed]) -> None:
    """The learners' rows in their organisations' lists, and the organisations' names: a statement per round in
    which no row repeats (a run of new learners: one), so the same result as applying the events one by one."""
    await save_organisations(conn, [(event.sending_organisation, env.occurred_at) for env, event, _ in items])
    for part in rounds(items, key=lambda item: (item[1].sending_organisation.code, item[1].class_id,
                                                 item[1].learner_id)):
        enrolled = [item for item in part if isinstance(item[1], LearnerEnrolled)]
        waitlisted = [item for item in part if not isinstance(item[1], LearnerEnrolled)]
        if enrolled:
            await conn.execute(_ENROLLED, *_columns(enrolled), [e.seat_number for _, e, _ in enrolled],
                               [env.occurred_at for env, _, _ in enrolled], *_kept(enrolled))
        if waitlisted:
            await conn.execute(_WAITLISTED, *_columns(waitlisted), *_kept(waitlisted))


def _columns(items: Sequence[Placed]) -> list[list]:
    return [[e.sending_organisation.code for _, e, _ in items], [e.class_id for _, e, _ in items],
            [e.learner_id for _, e, _ in items], [env.centre for env, _, _ in items],
            [display_name(who) for _, _, who in items], [e.class_title for _, e, _ in items],
            [birth_date(who) for _, _, who in items]]


def _kept(items: Sequence[Placed]) -> list[list]:
    return [[_decision(e.dispatch_decision) for _, e, _ in items], [_sealed(e.profile) for _, e, _ in items]]


async def save_withdrawn(conn: asyncpg.Connection, organisation: str, class_id: UUID, learner_id: UUID) -> None:
    await conn.execute("UPDATE organisation_learners SET status = 'withdrawn'"
                       " WHERE organisation_code = $1 AND class_id = $2 AND learner_id = $3",
                       organisation, class_id, learner_id)


async def lock_class(conn: asyncpg.Connection, class_id: UUID) -> None:
    """Serialise, per class, applying its cancellation with applying its learners' enrolments and waiting places:
    the two come on different streams, applied by concurrent transactions, and without this each could miss the
    other's uncommitted rows (a learner never told the class was cancelled). Held to the end of the consumer's
    transaction; two batches taking two classes' locks in opposite orders are a deadlock PostgreSQL breaks, and
    the consumer retries the failed batch event by event."""
    await lock_classes(conn, [class_id])


async def lock_classes(conn: asyncpg.Connection, class_ids: Sequence[UUID]) -> None:
    """`lock_class` for every class of a run, in one statement and in one order (two runs never wait on each
    other in a cycle over these)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('notification-class:' || c::text, 0))"
                       " FROM unnest($1::uuid[]) WITH ORDINALITY AS u(c, n) ORDER BY n", sorted(set(class_ids)))


async def mark_told(conn: asyncpg.Connection, class_id: UUID, learner_ids: list[UUID], notice_type: str,
                    event_id: UUID) -> set[UUID]:
    """Record that these learners are told `notice_type` about the class; return those not told it before."""
    told = await mark_told_each(conn, [(class_id, learner, event_id) for learner in learner_ids], notice_type)
    return {learner for _, learner in told}


async def mark_told_each(conn: asyncpg.Connection, told: Sequence[tuple[UUID, UUID, UUID]],
                         notice_type: str) -> set[tuple[UUID, UUID]]:
    """Record that each (class, learner) is told `notice_type` by the event given beside it; return the
    (class, learner) pairs not told it before. A pair given twice is told by the first event given."""
    first: dict[tuple[UUID, UUID], UUID] = {}
    for class_id, learner_id, event_id in told:
        first.setdefault((class_id, learner_id), event_id)
    rows = await conn.fetch(
        "INSERT INTO learners_told (class_id, learner_id, notice_type, event_id)"
        " SELECT c, l, $3, e FROM unnest($1::uuid[], $2::uuid[], $4::uuid[]) AS u(c, l, e)"
        " ON CONFLICT DO NOTHING RETURNING class_id, learner_id",
        [c for c, _ in first], [learner for _, learner in first], notice_type, list(first.values()))
    return {(r["class_id"], r["learner_id"]) for r in rows}


async def cancel_class(conn: asyncpg.Connection, class_id: UUID, reason: str) -> None:
    await conn.execute("UPDATE classes SET cancelled_reason = $2 WHERE class_id = $1", class_id, reason)


async def cancellations(conn: asyncpg.Connection, class_ids: Sequence[UUID]) -> dict[UUID, str]:
    """The reason each of these classes was cancelled, for those whose cancellation notification has applied."""
    rows = await conn.fetch("SELECT class_id, cancelled_reason FROM classes WHERE class_id = ANY($1::uuid[])"
                            " AND cancelled_reason IS NOT NULL", sorted(set(class_ids)))
    return {r["class_id"]: r["cancelled_reason"] for r in rows}


async def learners_in_class(conn: asyncpg.Connection, class_id: UUID) -> list[AffectedLearner]:
    """Those a cancelled class concerns: seated or waiting (withdrawn ones no longer)."""
    rows = await conn.fetch(
        "SELECT l.organisation_code, coalesce(o.name, l.organisation_code) AS name, l.learner_id, l.full_name,"
        " coalesce(l.status, 'enrolled') AS status FROM organisation_learners l"
        " LEFT JOIN organisations o ON o.code = l.organisation_code"
        " WHERE l.class_id = $1 AND coalesce(l.status, 'enrolled') IN ('enrolled', 'waitlisted')", class_id)
    return [AffectedLearner(SendingOrganisation(code=r["organisation_code"], name=r["name"]), r["learner_id"],
                            r["full_name"], r["status"]) for r in rows]


async def class_titles(conn: asyncpg.Connection, class_ids: Sequence[UUID]) -> dict[UUID, str | None]:
    rows = await conn.fetch(
        "SELECT c, coalesce((SELECT title FROM classes WHERE class_id = c),"
        " (SELECT class_title FROM organisation_learners WHERE class_id = c LIMIT 1)) AS title"
        " FROM unnest($1::uuid[]) AS c", sorted(set(class_ids)))
    return {r["c"]: r["title"] for r in rows}


# A round of attendance: each (session, learner)'s status stored, and the one before it handed back (all the
# statement's parts see the rows as they were before it).
_ATTENDANCE = """
WITH given AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[]) WITH ORDINALITY
        AS g(class_id, session_id, learner_id, status, n)
), old AS (
    SELECT g.n, a.status FROM given g JOIN attendance a USING (class_id, session_id, learner_id)
), up AS (
    INSERT INTO attendance (class_id, session_id, learner_id, status)
    SELECT class_id, session_id, learner_id, status FROM given
    ON CONFLICT (class_id, session_id, learner_id) DO UPDATE SET status = excluded.status
)
SELECT n, status FROM old
"""


async def record_attendances(conn: asyncpg.Connection, events: Sequence[AttendanceRecorded]) -> list[str | None]:
    """Store the latest status of each (session, learner); return, per event, the status before it (None if
    first recorded), as if they were recorded one by one: a statement per round in which no pair repeats."""
    before: dict[int, str | None] = {}
    for part in rounds(list(enumerate(events)),
                       key=lambda item: (item[1].class_id, item[1].session_id, item[1].learner_id)):
        rows = await conn.fetch(_ATTENDANCE, [e.class_id for _, e in part], [e.session_id for _, e in part],
                                [e.learner_id for _, e in part], [e.status for _, e in part])
        old = {r["n"]: r["status"] for r in rows}
        before |= {i: old.get(n) for n, (i, _) in enumerate(part, start=1)}
    return [before[i] for i in range(len(events))]


async def save_final_results(conn: asyncpg.Connection, lines: Sequence[tuple[LearnerResultFinalised, dict[str, Any]]]
                             ) -> None:
    """Each learner's line of the class's report, kept until the class's results are final (a learner's later
    line replaces the earlier, as one by one)."""
    for part in rounds(lines, key=lambda item: (item[0].class_id, item[0].learner_id)):
        await conn.execute(
            "INSERT INTO final_results (class_id, learner_id, organisation_code, organisation_name, result)"
            " SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[])"
            " ON CONFLICT (class_id, learner_id) DO UPDATE SET organisation_code = excluded.organisation_code,"
            " organisation_name = excluded.organisation_name, result = excluded.result",
            [e.class_id for e, _ in part], [e.learner_id for e, _ in part],
            [e.sending_organisation.code for e, _ in part], [e.sending_organisation.name for e, _ in part],
            [json.dumps(line, ensure_ascii=False) for _, line in part])


async def final_results(conn: asyncpg.Connection, class_id: UUID) -> list[tuple[SendingOrganisation, dict]]:
    rows = await conn.fetch("SELECT organisation_code, organisation_name, result FROM final_results"
                            " WHERE class_id = $1", class_id)
    return [(SendingOrganisation(code=r["organisation_code"], name=r["organisation_name"]), json.loads(r["result"]))
            for r in rows]


_SCORES = """
INSERT INTO organisation_learners (organisation_code, class_id, learner_id, centre, full_name, class_title, score,
                                   grade_band, scored_at)
SELECT * FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::numeric[],
                     $8::text[], $9::timestamptz[])
ON CONFLICT (organisation_code, class_id, learner_id) DO UPDATE SET
    score = excluded.score, grade_band = excluded.grade_band, scored_at = excluded.scored_at
WHERE organisation_learners.scored_at IS NULL OR organisation_learners.scored_at <= excluded.scored_at
"""


async def save_results(conn: asyncpg.Connection, items: Sequence[tuple[Envelope, ScoreRecorded, str]]) -> None:
    """The learners' scores in their organisations' lists (each with the name opened), and the organisations'
    names: a statement per round in which no row repeats, so the same result as one by one."""
    await save_organisations(conn, [(event.sending_organisation, env.occurred_at) for env, event, _ in items])
    for part in rounds(items, key=lambda item: (item[1].sending_organisation.code, item[1].class_id,
                                                 item[1].learner_id)):
        await conn.execute(
            _SCORES, [e.sending_organisation.code for _, e, _ in part], [e.class_id for _, e, _ in part],
            [e.learner_id for _, e, _ in part], [env.centre for env, _, _ in part], [name for _, _, name in part],
            [e.class_title for _, e, _ in part], [e.score for _, e, _ in part],
            [e.grade_band.value for _, e, _ in part], [env.occurred_at for env, _, _ in part])


async def organisation(pool: asyncpg.Pool, code: str) -> dict | None:
    row = await pool.fetchrow("SELECT code, name FROM organisations WHERE code = $1", code)
    return dict(row) if row else None


async def learners(pool: asyncpg.Pool, codes: list[str], class_id: UUID | None = None) -> list[dict]:
    """The learners sent by any of `codes` (an organisation and those it took over)."""
    rows = await pool.fetch(
        """
        SELECT l.class_id, l.learner_id, l.centre, l.full_name, l.class_title, l.date_of_birth, l.seat_number,
               l.enrolled_at, l.score, l.grade_band, l.scored_at, c.starts_on, c.ends_on
        FROM organisation_learners l LEFT JOIN classes c USING (class_id)
        WHERE l.organisation_code = ANY($1::text[]) AND ($2::uuid IS NULL OR l.class_id = $2)
        """,
        codes, class_id,
    )
    return [dict(r) for r in rows]


def _redacted(node: Any, learner_id: str) -> Any:
    """`node` with the name and birth date of `learner_id` replaced wherever an object names that learner."""
    if isinstance(node, dict):
        out = {k: _redacted(v, learner_id) for k, v in node.items()}
        if out.get("learner_id") == learner_id:
            if "full_name" in out:
                out["full_name"] = ERASED
            if "date_of_birth" in out:
                out["date_of_birth"] = None
        return out
    if isinstance(node, list):
        return [_redacted(v, learner_id) for v in node]
    return node


async def erase(conn: asyncpg.Connection, learner_id: UUID) -> int:
    """Forget the learner's name and birth date in every view and every stored notice (its body is what was,
    or will be, sent: webhooks, the feed, emails and their PDF reports are made from it). Return the notices
    redacted. Scores and statuses stay, so the organisations' figures do not change."""
    await conn.execute("UPDATE organisation_learners SET full_name = $2, date_of_birth = NULL, profile = NULL"
                       " WHERE learner_id = $1", learner_id, ERASED)
    lid = str(learner_id)
    for row in await conn.fetch("SELECT class_id, result FROM final_results WHERE learner_id = $1", learner_id):
        result = _redacted(json.loads(row["result"]), lid)
        await conn.execute("UPDATE final_results SET result = $3::jsonb WHERE class_id = $1 AND learner_id = $2",
                           row["class_id"], learner_id, json.dumps(result, ensure_ascii=False))
    # a notice names the learner in `learner_id`, or in a list (a class's cancellation, report or digest)
    notices = await conn.fetch("SELECT notice_id, body FROM notices WHERE learner_id = $1 OR strpos(body, $2) > 0",
                               learner_id, lid)
    for row in notices:
        body = json.dumps(_redacted(json.loads(row["body"]), lid), ensure_ascii=False, separators=(",", ":"))
        if body != row["body"]:
            await conn.execute("UPDATE notices SET body = $2 WHERE notice_id = $1", row["notice_id"], body)
    await forget_learner(conn, learner_id)
    return len(notices)


async def learner_record(pool: asyncpg.Pool, codes: list[str], learner_id: UUID) -> list[dict]:
    """Every class the organisation (any of `codes`: it and those it took over) sent the learner to, at any centre,
    with the final result once there is one."""
    rows = await pool.fetch(
        """
        SELECT l.class_id, l.class_title, l.centre, l.full_name, coalesce(l.status, 'enrolled') AS status,
               c.programme_type, c.starts_on, c.ends_on, r.result, l.profile
        FROM organisation_learners l LEFT JOIN classes c USING (class_id)
        LEFT JOIN final_results r ON r.class_id = l.class_id AND r.learner_id = l.learner_id
                                 AND r.organisation_code = l.organisation_code
        WHERE l.organisation_code = ANY($1::text[]) AND l.learner_id = $2
        ORDER BY c.starts_on NULLS LAST, l.class_id
        """, codes, learner_id)
    return [{**dict(r), "result": json.loads(r["result"]) if r["result"] else None} for r in rows]
