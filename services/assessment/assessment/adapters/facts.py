"""What assessment keeps of other services' events (classes, sessions, learners), and reads them back as the
domain's facts. Every handler is an order-independent upsert, so events of different streams may arrive in any
order relative to each other and none needs a NAK-and-retry:
- ClassOpened fills a class's facts and marks it opened; it never clears `cancelled` (ClassCancelled may come first).
- ClassCancelled marks the class cancelled, creating its row if ClassOpened has not arrived yet.
- SessionScheduled upserts the session (a reschedule moves its date) but never clears `cancelled`; the class's
  scheduled total and plan are taken from the latest session event by `occurred_at`, whatever order they arrive in.
- SessionCancelled marks the session cancelled, creating its row (without a date) if it arrives first.
- LearnerEnrolled / LearnerWithdrawn upsert the learner's seat; the later by `occurred_at` wins, so a withdrawal
  that overtakes its enrolment is not undone by it, and a re-enrolment after a withdrawal counts.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
from ttct.contracts import ClassOpened, Envelope, LearnerEnrolled
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.contracts.learner_erased import LearnerErased
from ttct.contracts.learner_withdrawn import LearnerWithdrawn
from ttct.contracts.class_plan_changed import ClassPlanChanged
from ttct.contracts.session_cancelled import SessionCancelled
from ttct.contracts.session_scheduled import SessionScheduled
from ttct.contracts.types import SealedPersonalData, SendingOrganisation
from ttct.domain.names import name_sort_key
from ttct.eventsourcing.consumer import batched, rounds
from ttct.http.idempotency import forget_learner
from ttct.privacy.personal import ERASED, KeyRing, display_name

from assessment.domain.facts import ClassFacts, LearnerInClass, SessionFact

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS class_facts (
        class_id               uuid PRIMARY KEY,
        centre                 text NOT NULL,
        opened                 boolean NOT NULL DEFAULT false,
        cancelled              boolean NOT NULL DEFAULT false,
        title                  text NOT NULL DEFAULT '',
        programme_type         text,
        programme_code         text,
        planned_sessions       integer NOT NULL DEFAULT 0,
        max_absence_ratio      numeric NOT NULL DEFAULT 0.2,
        excused_absences_count boolean NOT NULL DEFAULT false,
        assessment_scheme      text,
        scheduled_total        integer,
        scheduled_total_at     timestamptz,
        pinned_scheme          text
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS class_sessions (
        session_id   uuid PRIMARY KEY,
        class_id     uuid NOT NULL,
        centre       text NOT NULL,
        session_date date,
        cancelled    boolean NOT NULL DEFAULT false
    )
    """,
    "CREATE INDEX IF NOT EXISTS class_sessions_by_class ON class_sessions (class_id)",
    """
    CREATE TABLE IF NOT EXISTS class_learners (
        class_id          uuid NOT NULL,
        learner_id        uuid NOT NULL,
        centre            text NOT NULL,
        class_title       text NOT NULL,
        full_name         text NOT NULL,
        organisation_code text NOT NULL,
        organisation_name text NOT NULL,
        PRIMARY KEY (class_id, learner_id)
    )
    """,
    "ALTER TABLE class_learners ADD COLUMN IF NOT EXISTS enrolled_on date",
    "ALTER TABLE class_learners ADD COLUMN IF NOT EXISTS withdrawn boolean NOT NULL DEFAULT false",
    "ALTER TABLE class_learners ADD COLUMN IF NOT EXISTS changed_at timestamptz",
    # issue 7: the sealed name as received, copied into assessment's events; `full_name` is it opened (or ERASED)
    "ALTER TABLE class_learners ADD COLUMN IF NOT EXISTS personal jsonb",
    # the learner's profile as LearnerEnrolled carried it, still sealed: opened only when a record is read
    "ALTER TABLE class_learners ADD COLUMN IF NOT EXISTS profile jsonb",
    # what the papers print (the attendance sheet, certificates): the class's dates, each session's slot and who
    # teaches it where; rows applied before these columns existed show them empty until a rebuild
    *(f"ALTER TABLE class_facts ADD COLUMN IF NOT EXISTS {c}" for c in ("starts_on date", "ends_on date")),
    *(f"ALTER TABLE class_sessions ADD COLUMN IF NOT EXISTS {c}" for c in (
        "starts_at time", "ends_at time", "topic text", "venue text", "lecturer_name text", "field_trip_site text")),
    # who taught the session, so that learners' evaluations rate only the class's own lecturers
    "ALTER TABLE class_sessions ADD COLUMN IF NOT EXISTS lecturer_id uuid",
    # the plan the latest session event carries (SessionScheduled v2), beside the sessions scheduled so far
    "ALTER TABLE class_facts ADD COLUMN IF NOT EXISTS scheduled_plan integer",
    # A seat as `on_seats` sends it: a run's seats go as one array of these rows, not as twelve arrays of one
    # column each. asyncpg checks every element of an array parameter for being a nested array (calls into
    # Python), so one element per seat instead of twelve: the client's CPU to encode and send a run of 200 fell
    # from about 3.5 to 2.2 µs a seat. Change it as the table's columns change, with ALTER TYPE … ADD ATTRIBUTE
    # statements after this one.
    """
    DO $$ BEGIN
        CREATE TYPE class_learner_seat AS (
            class_id uuid, learner_id uuid, centre text, class_title text, full_name text, organisation_code text,
            organisation_name text, enrolled_on date, withdrawn boolean, changed_at timestamptz, personal jsonb,
            profile jsonb);
    EXCEPTION WHEN duplicate_object THEN NULL;
    END $$
    """,
]


def _local_day(at: datetime):
    return at.astimezone(VIETNAM).date()


async def on_class_opened(conn: asyncpg.Connection, envelope: Envelope, event: ClassOpened) -> None:
    await conn.execute(
        """
        INSERT INTO class_facts (class_id, centre, opened, title, programme_type, programme_code, planned_sessions,
                                 max_absence_ratio, excused_absences_count, assessment_scheme, starts_on, ends_on)
        VALUES ($1, $2, true, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (class_id) DO UPDATE SET opened = true, title = excluded.title,
            programme_type = excluded.programme_type, programme_code = excluded.programme_code,
            planned_sessions = excluded.planned_sessions, max_absence_ratio = excluded.max_absence_ratio,
            excused_absences_count = excluded.excused_absences_count, assessment_scheme = excluded.assessment_scheme,
            starts_on = excluded.starts_on, ends_on = excluded.ends_on
        """,
        event.class_id, envelope.centre, event.title, str(event.programme_type),
        event.programme_code, event.planned_sessions, event.max_absence_ratio, event.excused_absences_count,
        event.assessment_scheme, event.starts_on, event.ends_on,
    )


async def on_class_cancelled(conn: asyncpg.Connection, envelope: Envelope, event: ClassCancelled) -> None:
    await conn.execute(
        "INSERT INTO class_facts (class_id, centre, cancelled, title) VALUES ($1, $2, true, $3)"
        " ON CONFLICT (class_id) DO UPDATE SET cancelled = true",
        event.class_id, envelope.centre, event.class_title,
    )


async def _scheduled_total(conn: asyncpg.Connection, envelope: Envelope, event: SessionScheduled | SessionCancelled
                           ) -> None:
    await conn.execute(
        """
        INSERT INTO class_facts (class_id, centre, scheduled_total, scheduled_plan, scheduled_total_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (class_id) DO UPDATE SET scheduled_total = excluded.scheduled_total,
            scheduled_plan = excluded.scheduled_plan, scheduled_total_at = excluded.scheduled_total_at
        WHERE class_facts.scheduled_total_at IS NULL OR class_facts.scheduled_total_at <= excluded.scheduled_total_at
        """,
        event.class_id, envelope.centre, event.scheduled_sessions, event.planned_sessions, envelope.occurred_at,
    )


async def on_session_scheduled(conn: asyncpg.Connection, envelope: Envelope, event: SessionScheduled) -> None:
    await conn.execute(
        "INSERT INTO class_sessions (session_id, class_id, centre, session_date, starts_at, ends_at, topic, venue,"
        " lecturer_name, field_trip_site, lecturer_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (session_id) DO UPDATE SET session_date = excluded.session_date, starts_at = excluded.starts_at,"
        " ends_at = excluded.ends_at, topic = excluded.topic, venue = excluded.venue,"
        " lecturer_name = excluded.lecturer_name, field_trip_site = excluded.field_trip_site,"
        " lecturer_id = excluded.lecturer_id",
        event.session_id, event.class_id, envelope.centre, event.session_date, event.starts_at, event.ends_at,
        event.topic, event.venue, event.lecturer_name, event.field_trip_site, event.lecturer_id,
    )
    await _scheduled_total(conn, envelope, event)


async def on_session_cancelled(conn: asyncpg.Connection, envelope: Envelope, event: SessionCancelled) -> None:
    await conn.execute(
        "INSERT INTO class_sessions (session_id, class_id, centre, cancelled) VALUES ($1, $2, $3, true)"
        " ON CONFLICT (session_id) DO UPDATE SET cancelled = true",
        event.session_id, event.class_id, envelope.centre,
    )
    await _scheduled_total(conn, envelope, event)


async def on_class_plan_changed(conn: asyncpg.Connection, envelope: Envelope, event: ClassPlanChanged) -> None:
    """The centre's own plan replaces the programme's: both the plan ClassOpened gave and the one the latest
    session event carried, so a lowered plan is not outweighed by the older, larger one."""
    await conn.execute(
        """
        INSERT INTO class_facts (class_id, centre, planned_sessions, scheduled_total, scheduled_plan,
                                 scheduled_total_at)
        VALUES ($1, $2, $3, $4, $3, $5)
        ON CONFLICT (class_id) DO UPDATE SET planned_sessions = excluded.planned_sessions,
            scheduled_total = excluded.scheduled_total, scheduled_plan = excluded.scheduled_plan,
            scheduled_total_at = excluded.scheduled_total_at
        WHERE class_facts.scheduled_total_at IS NULL OR class_facts.scheduled_total_at <= excluded.scheduled_total_at
        """,
        event.class_id, envelope.centre, event.planned_sessions, event.scheduled_sessions, envelope.occurred_at,
    )


# A run of seats in one statement, from one array of `class_learner_seat` rows (one per event of a round).
_SEATS = """
INSERT INTO class_learners (class_id, learner_id, centre, class_title, full_name, organisation_code,
                            organisation_name, enrolled_on, withdrawn, changed_at, personal, profile)
SELECT * FROM unnest($1::class_learner_seat[])
ON CONFLICT (class_id, learner_id) DO UPDATE SET
    enrolled_on = coalesce(CASE WHEN excluded.withdrawn THEN class_learners.enrolled_on ELSE excluded.enrolled_on END,
                           class_learners.enrolled_on),
    withdrawn = excluded.withdrawn, changed_at = excluded.changed_at, personal = excluded.personal,
    profile = coalesce(excluded.profile, class_learners.profile),
    full_name = excluded.full_name, organisation_code = excluded.organisation_code,
    organisation_name = excluded.organisation_name, class_title = excluded.class_title
WHERE class_learners.changed_at IS NULL OR class_learners.changed_at <= excluded.changed_at
"""


def _sealed_json(sealed: SealedPersonalData) -> str:
    # `model_dump_json` itself, without its Python layer (half its cost): once or twice per seat a rebuild applies
    return _SEALED_JSON.to_json(sealed).decode()


_SEALED_JSON = SealedPersonalData.__pydantic_serializer__


@batched
async def on_seats(ring: KeyRing, conn: asyncpg.Connection,
                   items: Sequence[tuple[Envelope, LearnerEnrolled | LearnerWithdrawn]]) -> None:
    """A run of enrolments and withdrawals, one statement per round (a rebuild: one per fetched batch), with the
    same effect as applying them one by one. The name is opened now, for staff's lists and messages; ERASED if
    the learner's key is gone (a rebuild too)."""
    # keyed by the ids' integers: a uuid.UUID hashes in Python, and `rounds` hashes each key twice
    for part in rounds(items, key=lambda item: (item[1].class_id.int, item[1].learner_id.int)):
        opened = await ring.open_all([event.personal for _, event in part])
        rows = [(e.class_id, e.learner_id, env.centre, e.class_title, display_name(data), e.sending_organisation.code,
                 e.sending_organisation.name, _local_day(env.occurred_at) if seated else None, not seated,
                 env.occurred_at, _sealed_json(e.personal), _sealed_json(e.profile) if seated and e.profile else None)
                for (env, e), data in zip(part, opened, strict=True) for seated in (isinstance(e, LearnerEnrolled),)]
        await conn.execute(_SEATS, rows)


async def on_learner_enrolled(ring: KeyRing, conn: asyncpg.Connection, envelope: Envelope,
                              event: LearnerEnrolled) -> None:
    await on_seats(ring, conn, [(envelope, event)])


async def on_learner_withdrawn(ring: KeyRing, conn: asyncpg.Connection, envelope: Envelope,
                               event: LearnerWithdrawn) -> None:
    await on_seats(ring, conn, [(envelope, event)])


async def on_learner_erased(ring: KeyRing, conn: asyncpg.Connection, _envelope: Envelope,
                            event: LearnerErased) -> None:
    """Forget the learner's name wherever assessment wrote it; scores, results and certificate numbers stay, so
    the class's figures do not change."""
    ring.forget(event.learner_id)
    for table in ("class_learners", "final_results", "certificates"):
        await conn.execute(f"UPDATE {table} SET full_name = $2 WHERE learner_id = $1", event.learner_id, ERASED)
    await conn.execute("UPDATE class_learners SET profile = NULL WHERE learner_id = $1", event.learner_id)
    await forget_learner(conn, event.learner_id)


async def class_facts(db: asyncpg.Pool | asyncpg.Connection, centre: str, class_id: UUID) -> ClassFacts | None:
    row = await db.fetchrow("SELECT * FROM class_facts WHERE centre = $1 AND class_id = $2", centre, class_id)
    if row is None:
        return None
    sessions = await db.fetch("SELECT session_id, session_date, cancelled FROM class_sessions WHERE class_id = $1"
                              " ORDER BY session_date, session_id", class_id)
    return ClassFacts(
        class_id=class_id, title=row["title"], programme_type=row["programme_type"],
        programme_code=row["programme_code"], opened=row["opened"], cancelled=row["cancelled"],
        planned_sessions=row["planned_sessions"], max_absence_ratio=Decimal(row["max_absence_ratio"]),
        excused_absences_count=row["excused_absences_count"], assessment_scheme=row["assessment_scheme"],
        sessions=tuple(SessionFact(s["session_id"], s["session_date"]) for s in sessions
                       if not s["cancelled"] and s["session_date"] is not None),
        cancelled_sessions=frozenset(s["session_id"] for s in sessions if s["cancelled"]),
        scheduled_total=row["scheduled_total"], scheduled_plan=row["scheduled_plan"],
        pinned_scheme=row["pinned_scheme"])


def _learner(row: asyncpg.Record) -> LearnerInClass:
    return LearnerInClass(
        class_id=row["class_id"], class_title=row["class_title"], learner_id=row["learner_id"],
        full_name=row["full_name"],
        personal=SealedPersonalData.model_validate_json(row["personal"]) if row["personal"]
        else SealedPersonalData(learner_id=row["learner_id"], nonce="", ciphertext=""),
        sending_organisation=SendingOrganisation(code=row["organisation_code"], name=row["organisation_name"]),
        enrolled_on=row["enrolled_on"], withdrawn=row["withdrawn"])


async def learner_in_class(db: asyncpg.Pool, centre: str, class_id: UUID, learner_id: UUID) -> LearnerInClass | None:
    """The learner, if enrolled in the class now."""
    row = await db.fetchrow("SELECT * FROM class_learners WHERE centre = $1 AND class_id = $2 AND learner_id = $3"
                            " AND NOT withdrawn", centre, class_id, learner_id)
    return _learner(row) if row else None


async def learners(db: asyncpg.Pool, centre: str, class_id: UUID) -> dict[UUID, LearnerInClass]:
    """The class's learners enrolled now, by id."""
    rows = await db.fetch("SELECT * FROM class_learners WHERE centre = $1 AND class_id = $2 AND NOT withdrawn",
                          centre, class_id)
    ordered = sorted(rows, key=lambda r: (name_sort_key(r["full_name"]), str(r["learner_id"])))  # Vietnamese order
    return {r["learner_id"]: _learner(r) for r in ordered}


async def lecturers(db: asyncpg.Pool, centre: str, class_id: UUID) -> dict[UUID, str]:
    """Who teaches the class's sessions not cancelled: lecturer id → name."""
    rows = await db.fetch("SELECT DISTINCT lecturer_id, lecturer_name FROM class_sessions WHERE centre = $1"
                          " AND class_id = $2 AND NOT cancelled AND lecturer_id IS NOT NULL", centre, class_id)
    return {r["lecturer_id"]: r["lecturer_name"] for r in rows}


async def teaches(db: asyncpg.Pool, centre: str, class_id: UUID, lecturer_id: str,
                  session_id: UUID | None = None) -> bool:
    """Whether the lecturer teaches a session of the class not cancelled (that session, when one is named)."""
    return bool(await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM class_sessions WHERE centre = $1 AND class_id = $2 AND NOT cancelled"
        " AND lecturer_id::text = $3 AND ($4::uuid IS NULL OR session_id = $4))", centre, class_id, lecturer_id,
        session_id))


async def learners_ever(db: asyncpg.Pool, centre: str, class_id: UUID) -> int:
    """How many learners the class has had, those who withdrew included."""
    return await db.fetchval("SELECT count(*) FROM class_learners WHERE centre = $1 AND class_id = $2",
                             centre, class_id)


async def class_heard_of(db: asyncpg.Pool, centre: str, class_id: UUID) -> bool:
    """Whether scheduling's events about the class have reached assessment (its facts are kept)."""
    return bool(await db.fetchval("SELECT EXISTS (SELECT 1 FROM class_facts WHERE centre = $1 AND class_id = $2)",
                                  centre, class_id))


async def class_known(db: asyncpg.Pool, centre: str, class_id: UUID) -> bool:
    return bool(await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM class_learners WHERE centre = $1 AND class_id = $2)"
        " OR EXISTS (SELECT 1 FROM class_facts WHERE centre = $1 AND class_id = $2 AND opened)", centre, class_id))
