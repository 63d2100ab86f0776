"""The projections of other services' events: classes, and each sending organisation's learners.

Writers take the consumer's connection (they run inside its transaction, with its checkpoint); readers take the
pool. Every write is an upsert, so applying an event twice would change nothing.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from ttct.contracts import ClassOpened, LearnerEnrolled, ScoreRecorded
from ttct.contracts.attendance_recorded import AttendanceRecorded
from ttct.contracts.learner_result_finalised import LearnerResultFinalised
from ttct.contracts.learner_waitlisted import LearnerWaitlisted
from ttct.contracts.sending_organisation_registered import SendingOrganisationRegistered
from ttct.contracts.types import DispatchDecision, PersonalData, SealedPersonalData, SendingOrganisation
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


async def save_organisation(conn: asyncpg.Connection, organisation: SendingOrganisation, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO organisations (code, name, updated_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at"
        " WHERE organisations.updated_at <= excluded.updated_at",
        organisation.code, organisation.name, at,
    )


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


# The sending organisation's name as an event gives it, upserted in the same statement as the learner's row
# (`$1` its code, `$9` the event's time, `$10` its name): one round trip fewer on every enrolment and score.
_WITH_ORGANISATION = """
        WITH organisation AS (
            INSERT INTO organisations (code, name, updated_at) VALUES ($1, $10, $9)
            ON CONFLICT (code) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at
            WHERE organisations.updated_at <= excluded.updated_at
        )"""


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


async def save_enrolment(conn: asyncpg.Connection, centre: str, event: LearnerEnrolled, at: datetime,
                         who: PersonalData | None) -> None:
    """The learner's row in their organisation's list, and the organisation's name."""
    await conn.execute(
        _WITH_ORGANISATION + """
        INSERT INTO organisation_learners (organisation_code, class_id, learner_id, centre, full_name, class_title,
                                           date_of_birth, seat_number, enrolled_at, status, dispatch_decision,
                                           profile)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'enrolled', $11::jsonb, $12::jsonb)
        ON CONFLICT (organisation_code, class_id, learner_id) DO UPDATE SET
            full_name = excluded.full_name, class_title = excluded.class_title,
            date_of_birth = excluded.date_of_birth, seat_number = excluded.seat_number,
            enrolled_at = excluded.enrolled_at, status = 'enrolled',
            dispatch_decision = coalesce(excluded.dispatch_decision, organisation_learners.dispatch_decision),
            profile = coalesce(excluded.profile, organisation_learners.profile)
        """,
        event.sending_organisation.code, event.class_id, event.learner_id, centre, display_name(who),
        event.class_title, birth_date(who), event.seat_number, at, event.sending_organisation.name,
        _decision(event.dispatch_decision), _sealed(event.profile),
    )


async def save_waitlisted(conn: asyncpg.Connection, centre: str, event: LearnerWaitlisted,
                          who: PersonalData | None) -> None:
    await conn.execute(
        """
        INSERT INTO organisation_learners (organisation_code, class_id, learner_id, centre, full_name, class_title,
                                           date_of_birth, status, dispatch_decision, profile)
        VALUES ($1, $2, $3, $4, $5, $6, $7, 'waitlisted', $8::jsonb, $9::jsonb)
        ON CONFLICT (organisation_code, class_id, learner_id) DO UPDATE SET status = 'waitlisted',
            dispatch_decision = coalesce(excluded.dispatch_decision, organisation_learners.dispatch_decision),
            profile = coalesce(excluded.profile, organisation_learners.profile)
        """,
        event.sending_organisation.code, event.class_id, event.learner_id, centre, display_name(who),
        event.class_title, birth_date(who), _decision(event.dispatch_decision), _sealed(event.profile),
    )


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
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('notification-class:' || $1::uuid::text, 0))",
                       class_id)


async def mark_told(conn: asyncpg.Connection, class_id: UUID, learner_ids: list[UUID], notice_type: str,
                    event_id: UUID) -> set[UUID]:
    """Record that these learners are told `notice_type` about the class; return those not told it before."""
    rows = await conn.fetch(
        "INSERT INTO learners_told (class_id, learner_id, notice_type, event_id)"
        " SELECT $1, learner_id, $3, $4 FROM unnest($2::uuid[]) AS learner_id"
        " ON CONFLICT DO NOTHING RETURNING learner_id", class_id, learner_ids, notice_type, event_id)
    return {r["learner_id"] for r in rows}


async def cancel_class(conn: asyncpg.Connection, class_id: UUID, reason: str) -> None:
    await conn.execute("UPDATE classes SET cancelled_reason = $2 WHERE class_id = $1", class_id, reason)


async def cancellation(conn: asyncpg.Connection, class_id: UUID) -> str | None:
    """The reason the class was cancelled, if notification has applied its cancellation."""
    return await conn.fetchval("SELECT cancelled_reason FROM classes WHERE class_id = $1", class_id)


async def learners_in_class(conn: asyncpg.Connection, class_id: UUID) -> list[AffectedLearner]:
    """Those a cancelled class concerns: seated or waiting (withdrawn ones no longer)."""
    rows = await conn.fetch(
        "SELECT l.organisation_code, coalesce(o.name, l.organisation_code) AS name, l.learner_id, l.full_name,"
        " coalesce(l.status, 'enrolled') AS status FROM organisation_learners l"
        " LEFT JOIN organisations o ON o.code = l.organisation_code"
        " WHERE l.class_id = $1 AND coalesce(l.status, 'enrolled') IN ('enrolled', 'waitlisted')", class_id)
    return [AffectedLearner(SendingOrganisation(code=r["organisation_code"], name=r["name"]), r["learner_id"],
                            r["full_name"], r["status"]) for r in rows]


async def class_title(conn: asyncpg.Connection, class_id: UUID) -> str | None:
    return await conn.fetchval(
        "SELECT coalesce((SELECT title FROM classes WHERE class_id = $1),"
        " (SELECT class_title FROM organisation_learners WHERE class_id = $1 LIMIT 1))", class_id)


async def record_attendance(conn: asyncpg.Connection, event: AttendanceRecorded) -> str | None:
    """Store the latest status of (session, learner); return the one before, None if first recorded."""
    return await conn.fetchval(
        "WITH old AS (SELECT status FROM attendance WHERE class_id = $1 AND session_id = $2 AND learner_id = $3),"
        " up AS (INSERT INTO attendance (class_id, session_id, learner_id, status) VALUES ($1, $2, $3, $4)"
        "        ON CONFLICT (class_id, session_id, learner_id) DO UPDATE SET status = excluded.status)"
        " SELECT status FROM old", event.class_id, event.session_id, event.learner_id, event.status)


async def save_final_result(conn: asyncpg.Connection, event: LearnerResultFinalised, line: dict[str, Any]) -> None:
    org = event.sending_organisation
    await conn.execute(
        "INSERT INTO final_results (class_id, learner_id, organisation_code, organisation_name, result)"
        " VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (class_id, learner_id) DO UPDATE SET"
        " organisation_code = excluded.organisation_code, organisation_name = excluded.organisation_name,"
        " result = excluded.result",
        event.class_id, event.learner_id, org.code, org.name, json.dumps(line, ensure_ascii=False))


async def final_results(conn: asyncpg.Connection, class_id: UUID) -> list[tuple[SendingOrganisation, dict]]:
    rows = await conn.fetch("SELECT organisation_code, organisation_name, result FROM final_results"
                            " WHERE class_id = $1", class_id)
    return [(SendingOrganisation(code=r["organisation_code"], name=r["organisation_name"]), json.loads(r["result"]))
            for r in rows]


async def save_result(conn: asyncpg.Connection, centre: str, event: ScoreRecorded, at: datetime,
                      full_name: str) -> None:
    """The learner's score in their organisation's list, and the organisation's name."""
    await conn.execute(
        _WITH_ORGANISATION + """
        INSERT INTO organisation_learners (organisation_code, class_id, learner_id, centre, full_name, class_title,
                                           score, grade_band, scored_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (organisation_code, class_id, learner_id) DO UPDATE SET
            score = excluded.score, grade_band = excluded.grade_band, scored_at = excluded.scored_at
        WHERE organisation_learners.scored_at IS NULL OR organisation_learners.scored_at <= excluded.scored_at
        """,
        event.sending_organisation.code, event.class_id, event.learner_id, centre, full_name,
        event.class_title, event.score, event.grade_band.value, at, event.sending_organisation.name,
    )


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
