"""The centre's classes and their sessions, updated in the transaction that appends the class's events (so a
class reads back at once), together with the bookings that hold lecturers and venues."""
from __future__ import annotations

from datetime import date
from uuid import UUID

import asyncpg
from ttct.contracts import ClassOpened, Envelope, read_event
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.contracts.class_completed import ClassCompleted
from ttct.contracts.class_planned import ClassPlanned
from ttct.contracts.class_plan_changed import ClassPlanChanged
from ttct.contracts.class_started import ClassStarted
from ttct.contracts.session_cancelled import SessionCancelled
from ttct.contracts.session_scheduled import SessionScheduled

from scheduling.adapters import bookings, session_views

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS classes (
        class_id       uuid PRIMARY KEY,
        centre         text NOT NULL,
        programme_type text NOT NULL,
        title          text NOT NULL,
        capacity       integer NOT NULL,
        starts_on      date NOT NULL,
        ends_on        date NOT NULL,
        venue          text NOT NULL,
        status         text NOT NULL,
        opened_at      timestamptz
    )
    """,
    "ALTER TABLE classes ALTER COLUMN opened_at DROP NOT NULL",
    *(f"ALTER TABLE classes ADD COLUMN IF NOT EXISTS {column}" for column in (
        "programme_code text", "planned_sessions integer NOT NULL DEFAULT 0", "max_absence_ratio numeric",
        "excused_absences_count boolean", "assessment_scheme text", "cancel_reason text",
        "updated_at timestamptz", "when_full text NOT NULL DEFAULT 'waiting-list'")),
    "CREATE INDEX IF NOT EXISTS classes_by_centre ON classes (centre, starts_on, class_id)",
    *bookings.SCHEMA,
    *session_views.SCHEMA,
]

_COLUMNS = ("class_id, centre, programme_type, programme_code, title, capacity, starts_on, ends_on, venue, status,"
            " planned_sessions, max_absence_ratio, excused_absences_count, assessment_scheme, cancel_reason,"
            " opened_at, updated_at, when_full")


async def _status(conn: asyncpg.Connection, class_id: UUID, status: str, envelope: Envelope,
                  reason: str | None = None) -> None:
    await conn.execute("UPDATE classes SET status = $2, cancel_reason = coalesce($3, cancel_reason), updated_at = $4"
                       " WHERE class_id = $1", class_id, status, reason, envelope.occurred_at)


async def project(conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        event, at = read_event(envelope), envelope.occurred_at
        match event:
            case ClassPlanned():
                await conn.execute(
                    "INSERT INTO classes (class_id, centre, programme_type, programme_code, title, capacity, starts_on,"
                    " ends_on, venue, status, updated_at, when_full)"
                    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'planned',$10,$11) ON CONFLICT (class_id) DO NOTHING",
                    event.class_id, envelope.centre, event.programme_type.value, event.programme_code, event.title,
                    event.capacity, event.starts_on, event.ends_on, event.venue, at, event.when_full)
            case ClassOpened():
                await conn.execute(
                    "INSERT INTO classes (class_id, centre, programme_type, programme_code, title, capacity, starts_on,"
                    " ends_on, venue, status, planned_sessions, max_absence_ratio, excused_absences_count,"
                    " assessment_scheme, opened_at, updated_at, when_full)"
                    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'open',$10,$11,$12,$13,$14,$14,$15)"
                    " ON CONFLICT (class_id) DO UPDATE SET status = 'open', programme_code = EXCLUDED.programme_code,"
                    " planned_sessions = EXCLUDED.planned_sessions, max_absence_ratio = EXCLUDED.max_absence_ratio,"
                    " excused_absences_count = EXCLUDED.excused_absences_count,"
                    " assessment_scheme = EXCLUDED.assessment_scheme, opened_at = EXCLUDED.opened_at,"
                    " updated_at = EXCLUDED.updated_at, when_full = EXCLUDED.when_full",
                    event.class_id, envelope.centre, event.programme_type.value, event.programme_code, event.title,
                    event.capacity, event.starts_on, event.ends_on, event.venue, event.planned_sessions,
                    event.max_absence_ratio, event.excused_absences_count, event.assessment_scheme, at, event.when_full)
            case ClassStarted():
                await _status(conn, event.class_id, "in_progress", envelope)
            case ClassCompleted():
                await _status(conn, event.class_id, "completed", envelope)
            case ClassCancelled():
                await _status(conn, event.class_id, "cancelled", envelope, event.reason)
                await session_views.cancel_class(conn, event.class_id, at)
            case ClassPlanChanged():
                await conn.execute("UPDATE classes SET planned_sessions = $2, updated_at = $3 WHERE class_id = $1",
                                   event.class_id, event.planned_sessions, at)
            case SessionScheduled() | SessionCancelled():
                await conn.execute("UPDATE classes SET planned_sessions = $2, updated_at = $3 WHERE class_id = $1",
                                   event.class_id, event.planned_sessions, at)
                await session_views.project(conn, envelope, event)


async def list_classes(pool: asyncpg.Pool, centres: list[str], status: str | None = None, *,
                       programme_type: str | None = None, starts_from: date | None = None,
                       starts_until: date | None = None, after: tuple[date, UUID] | None = None,
                       limit: int | None = None) -> list[dict]:
    """The centres' classes by start date (then id), filtered, from after the key `after` on."""
    after_on, after_id = after or (None, None)
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM classes WHERE centre = ANY($1::text[]) AND ($2::text IS NULL OR status = $2)"
        " AND ($3::text IS NULL OR programme_type = $3) AND ($4::date IS NULL OR starts_on >= $4)"
        " AND ($5::date IS NULL OR starts_on <= $5) AND ($6::date IS NULL OR (starts_on, class_id) > ($6, $7::uuid))"
        " ORDER BY starts_on, class_id LIMIT $8",
        centres, status, programme_type, starts_from, starts_until, after_on, after_id, limit)
    return [dict(r) for r in rows]


async def get_class(pool: asyncpg.Pool | asyncpg.Connection, centre: str, class_id: UUID) -> dict | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM classes WHERE centre = $1 AND class_id = $2", centre, class_id)
    return dict(row) if row else None
