"""Assessment's own views, updated in the transaction that appends the events they show: scores, conduct,
attendance, eligibility, final results and certificates."""
from __future__ import annotations

from uuid import UUID

import asyncpg
from ttct.contracts import Envelope, ScoreRecorded, read_event
from ttct.contracts.attendance_recorded import AttendanceRecorded
from ttct.contracts.certificate_issued import CertificateIssued
from ttct.contracts.certificate_revoked import CertificateRevoked
from ttct.contracts.class_results_finalised import ClassResultsFinalised
from ttct.contracts.conduct_rated import ConductRated
from ttct.contracts.eligibility_lost import EligibilityLost
from ttct.contracts.eligibility_restored import EligibilityRestored
from ttct.contracts.learner_result_finalised import LearnerResultFinalised
from ttct.domain.names import name_sort_key
from ttct.privacy.personal import ERASED

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS scores (
        class_id       uuid NOT NULL,
        learner_id     uuid NOT NULL,
        component      text NOT NULL,
        centre         text NOT NULL,
        score          numeric(3, 1) NOT NULL,
        grade_band     text NOT NULL,
        scheme_version text NOT NULL,
        recorded_at    timestamptz NOT NULL,
        PRIMARY KEY (class_id, learner_id, component)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS conduct (
        class_id   uuid NOT NULL,
        learner_id uuid NOT NULL,
        rating     text NOT NULL,
        note       text,
        PRIMARY KEY (class_id, learner_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS attendance (
        class_id     uuid NOT NULL,
        session_id   uuid NOT NULL,
        learner_id   uuid NOT NULL,
        session_date date NOT NULL,
        status       text NOT NULL,
        PRIMARY KEY (class_id, session_id, learner_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS eligibility_lost (
        class_id         uuid NOT NULL,
        learner_id       uuid NOT NULL,
        sessions_counted integer NOT NULL,
        absences         integer NOT NULL,
        lost_at          timestamptz NOT NULL,
        PRIMARY KEY (class_id, learner_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS final_results (
        class_id           uuid NOT NULL,
        learner_id         uuid NOT NULL,
        centre             text NOT NULL,
        full_name          text NOT NULL,
        organisation_code  text NOT NULL,
        eligible           boolean NOT NULL,
        final_score        numeric(3, 1),
        grade_band         text,
        passed             boolean NOT NULL,
        conduct            text,
        sessions_attended  integer NOT NULL,
        sessions_counted   integer NOT NULL,
        certificate_number text,
        finalised_at       timestamptz NOT NULL,
        PRIMARY KEY (class_id, learner_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS finalised_classes (
        class_id     uuid PRIMARY KEY,
        centre       text NOT NULL,
        learners     integer NOT NULL,
        passed       integer NOT NULL,
        finalised_at timestamptz NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS certificates (
        certificate_number text PRIMARY KEY,
        verification_code  text NOT NULL UNIQUE,
        centre             text NOT NULL,
        class_id           uuid NOT NULL,
        learner_id         uuid NOT NULL,
        full_name          text NOT NULL,
        programme_type     text,
        class_title        text NOT NULL,
        issued_on          date NOT NULL,
        revoked            boolean NOT NULL DEFAULT false,
        revoked_reason     text
    )
    """,
    "CREATE INDEX IF NOT EXISTS certificates_by_class ON certificates (class_id)",
    # the certificate issued after a re-sit in place of this one (verification says "reissued"), filled for
    # certificates replaced before the column existed too
    "ALTER TABLE certificates ADD COLUMN IF NOT EXISTS replaced_by text",
    """
    UPDATE certificates old SET replaced_by = new.certificate_number FROM certificates new
    WHERE old.revoked AND old.replaced_by IS NULL AND new.class_id = old.class_id
      AND new.learner_id = old.learner_id AND new.certificate_number > old.certificate_number
      AND NOT EXISTS (SELECT 1 FROM certificates between_them WHERE between_them.class_id = old.class_id
                      AND between_them.learner_id = old.learner_id
                      AND between_them.certificate_number > old.certificate_number
                      AND between_them.certificate_number < new.certificate_number)
    """,
]


_SCORE = ("INSERT INTO scores VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (class_id, learner_id, component)"
          " DO UPDATE SET score = excluded.score, grade_band = excluded.grade_band,"
          " scheme_version = excluded.scheme_version, recorded_at = excluded.recorded_at")
_PINNED = "UPDATE class_facts SET pinned_scheme = coalesce(pinned_scheme, $2) WHERE class_id = $1"
_MARK = ("INSERT INTO attendance VALUES ($1,$2,$3,$4,$5)"
         " ON CONFLICT (class_id, session_id, learner_id) DO UPDATE SET status = excluded.status")
# The learner's name as assessment shows it (opened from LearnerEnrolled, or ERASED, the last parameter):
# assessment's own events carry it sealed and assessment needs no key to project them. Looked up in the statement
# itself, so a class's finalisation is one pipelined statement per kind of row, not two or three round trips per
# learner.
_NAMED = "coalesce((SELECT full_name FROM class_learners WHERE class_id = $1 AND learner_id = $2), ${erased})"
_FINAL = (
    "INSERT INTO final_results SELECT $1::uuid, $2::uuid, $3::text, " + _NAMED.format(erased=14) + ","
    " $4::text, $5::boolean, $6::numeric, $7::text, $8::boolean, $9::text, $10::integer, $11::integer, $12::text,"
    " $13::timestamptz"
    " ON CONFLICT (class_id, learner_id) DO UPDATE SET eligible = excluded.eligible,"
    " final_score = excluded.final_score, grade_band = excluded.grade_band, passed = excluded.passed,"
    " conduct = excluded.conduct, sessions_attended = excluded.sessions_attended,"
    " sessions_counted = excluded.sessions_counted, certificate_number = excluded.certificate_number,"
    " finalised_at = excluded.finalised_at")
_CERTIFICATE = (
    "INSERT INTO certificates (certificate_number, verification_code, centre, class_id, learner_id, full_name,"
    " programme_type, class_title, issued_on) SELECT $3::text, $4::text, $5::text, $1::uuid, $2::uuid, "
    + _NAMED.format(erased=9) + ", $6::text, $7::text, $8::date ON CONFLICT DO NOTHING")
# a second certificate of a learner in a class is only ever issued after a re-sit, replacing theirs
_REPLACED = ("UPDATE certificates SET replaced_by = $1 WHERE class_id = $2 AND learner_id = $3"
             " AND certificate_number < $1 AND replaced_by IS NULL")


def _final_row(envelope: Envelope, e: LearnerResultFinalised) -> tuple:
    return (e.class_id, e.learner_id, envelope.centre, e.sending_organisation.code, e.eligible, e.final_score,
            e.grade_band.value if e.grade_band else None, e.passed, e.conduct, e.sessions_attended,
            e.sessions_counted, e.certificate_number, envelope.occurred_at, ERASED)


def _certificate_row(envelope: Envelope, e: CertificateIssued) -> tuple:
    return (e.class_id, e.learner_id, e.certificate_number, e.verification_code, envelope.centre, e.programme_type,
            e.class_title, e.issued_on, ERASED)


# Events that come in runs (a class's grid of scores, a session's marks, a class's finalisation: dozens to
# hundreds in one transaction) and go to PostgreSQL as one pipelined statement per kind of row
_IN_RUNS = (ScoreRecorded, AttendanceRecorded, LearnerResultFinalised, CertificateIssued)


async def project(conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    """Runs of events of one type go to PostgreSQL as one pipelined statement each, not one round trip per
    event: the rows and their order are the same as event by event."""
    run: list[tuple[Envelope, object]] = []
    for envelope in envelopes:
        event = read_event(envelope)
        if run and type(run[0][1]) is not type(event):
            await _apply_run(conn, run)
            run = []
        if isinstance(event, _IN_RUNS):
            run.append((envelope, event))
        else:
            await _apply(conn, envelope, event)
    if run:
        await _apply_run(conn, run)


async def _apply_run(conn: asyncpg.Connection, run: list[tuple[Envelope, object]]) -> None:
    if len(run) == 1:
        await _apply(conn, *run[0])
    elif isinstance(run[0][1], ScoreRecorded):
        await conn.executemany(_SCORE, [
            (e.class_id, e.learner_id, e.component, envelope.centre, e.score, e.grade_band.value, e.scheme_version,
             envelope.occurred_at) for envelope, e in run])
        # the first scheme a class's scores were graded by stays its scheme: once per class and scheme is enough
        pinned = dict.fromkeys((e.class_id, e.scheme_version) for _envelope, e in run)
        await conn.executemany(_PINNED, list(pinned))
    elif isinstance(run[0][1], AttendanceRecorded):
        await conn.executemany(_MARK, [(e.class_id, e.session_id, e.learner_id, e.session_date, e.status)
                                       for _envelope, e in run])
    elif isinstance(run[0][1], LearnerResultFinalised):
        await conn.executemany(_FINAL, [_final_row(envelope, e) for envelope, e in run])
    else:
        await conn.executemany(_CERTIFICATE, [_certificate_row(envelope, e) for envelope, e in run])
        await conn.executemany(_REPLACED, [(e.certificate_number, e.class_id, e.learner_id) for _envelope, e in run])


async def _apply(conn: asyncpg.Connection, envelope: Envelope, event) -> None:  # noqa: C901 one case per event
    at = envelope.occurred_at
    match event:
        case ScoreRecorded():
            await conn.execute(_SCORE, event.class_id, event.learner_id, event.component, envelope.centre, event.score,
                               event.grade_band.value, event.scheme_version, at)
            await conn.execute(_PINNED, event.class_id, event.scheme_version)
        case ConductRated():
            await conn.execute("INSERT INTO conduct VALUES ($1,$2,$3,$4) ON CONFLICT (class_id, learner_id)"
                               " DO UPDATE SET rating = excluded.rating, note = excluded.note",
                               event.class_id, event.learner_id, event.rating, event.note)
        case AttendanceRecorded():
            await conn.execute(_MARK, event.class_id, event.session_id, event.learner_id, event.session_date,
                               event.status)
        case EligibilityLost():
            await conn.execute("INSERT INTO eligibility_lost VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
                               event.class_id, event.learner_id, event.sessions_counted, event.absences, at)
        case EligibilityRestored():
            await conn.execute("DELETE FROM eligibility_lost WHERE class_id = $1 AND learner_id = $2",
                               event.class_id, event.learner_id)
        case LearnerResultFinalised():
            await conn.execute(_FINAL, *_final_row(envelope, event))
        case ClassResultsFinalised():
            await conn.execute("INSERT INTO finalised_classes VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
                               event.class_id, envelope.centre, event.learners, event.passed, at)
        case CertificateIssued():
            await conn.execute(_CERTIFICATE, *_certificate_row(envelope, event))
            await conn.execute(_REPLACED, event.certificate_number, event.class_id, event.learner_id)
        case CertificateRevoked():
            await conn.execute("UPDATE certificates SET revoked = true, revoked_reason = $2"
                               " WHERE certificate_number = $1", event.certificate_number, event.reason)


_SCORES = """
SELECT l.learner_id, l.full_name, l.organisation_code, s.component, s.score, s.grade_band, s.scheme_version,
       s.recorded_at
FROM class_learners l JOIN scores s USING (class_id, learner_id)
WHERE l.centre = $1 AND l.class_id = $2
"""


# Lists of learners come in the Vietnamese order of their names (given name first; ttct.domain.names), which
# PostgreSQL's collations do not know: a class's rows (at most its capacity) are read whole and ordered here. A name
# never goes into a cursor (it would sit in URLs and access logs): the cursor names the last learner (and
# component), and that learner's name is looked up to resume in name order.


def _in_name_order(rows, *then: str) -> list[dict]:
    return sorted((dict(r) for r in rows),
                  key=lambda r: (name_sort_key(r["full_name"]), str(r["learner_id"]), *(r[k] for k in then)))


async def _name_of(pool: asyncpg.Pool, class_id: UUID, learner_id: UUID) -> str:
    return await pool.fetchval("SELECT full_name FROM class_learners WHERE class_id = $1 AND learner_id = $2",
                               class_id, learner_id) or ""


async def scores(pool: asyncpg.Pool, centre: str, class_id: UUID, *, component: str | None = None,
                 organisation: str | None = None, after: tuple[UUID, str] | None = None,
                 limit: int | None = None) -> list[dict]:
    """The class's scores by learner name (then id) and component, filtered, after the key `after`."""
    rows = _in_name_order(await pool.fetch(
        _SCORES + " AND ($3::text IS NULL OR s.component = $3) AND ($4::text IS NULL OR l.organisation_code = $4)",
        centre, class_id, component, organisation), "component")
    if after is not None:
        key = (name_sort_key(await _name_of(pool, class_id, after[0])), str(after[0]), after[1])
        rows = [r for r in rows if (name_sort_key(r["full_name"]), str(r["learner_id"]), r["component"]) > key]
    return rows[:limit]


async def learners_after(pool: asyncpg.Pool, centre: str, class_id: UUID, after: UUID) -> set[UUID]:
    """The class's learners who come after learner `after` in name order (then id)."""
    key = (name_sort_key(await _name_of(pool, class_id, after)), str(after))
    rows = await pool.fetch("SELECT learner_id, full_name FROM class_learners WHERE centre = $1 AND class_id = $2",
                            centre, class_id)
    return {r["learner_id"] for r in rows if (name_sort_key(r["full_name"]), str(r["learner_id"])) > key}


async def score(pool: asyncpg.Pool, centre: str, class_id: UUID, learner_id: UUID, component: str) -> dict | None:
    row = await pool.fetchrow(_SCORES + " AND l.learner_id = $3 AND s.component = $4", centre, class_id, learner_id,
                              component)
    return dict(row) if row else None


async def attendance(pool: asyncpg.Pool, class_id: UUID, session_id: UUID, *, status: str | None = None,
                     after: tuple[UUID] | None = None, limit: int | None = None) -> list[dict]:
    """A session's marks by learner id, filtered by status, after the key `after`."""
    rows = await pool.fetch("SELECT learner_id, status FROM attendance WHERE class_id = $1 AND session_id = $2"
                            " AND ($3::text IS NULL OR status = $3) AND ($4::uuid IS NULL OR learner_id > $4)"
                            " ORDER BY learner_id LIMIT $5", class_id, session_id, status, (after or (None,))[0], limit)
    return [dict(r) for r in rows]


async def final_results(pool: asyncpg.Pool, centre: str, class_id: UUID) -> list[dict]:
    return _in_name_order(await pool.fetch("SELECT * FROM final_results WHERE centre = $1 AND class_id = $2",
                                           centre, class_id))


async def finalised_class(pool: asyncpg.Pool, centre: str, class_id: UUID) -> dict | None:
    row = await pool.fetchrow("SELECT * FROM finalised_classes WHERE centre = $1 AND class_id = $2", centre, class_id)
    return dict(row) if row else None


async def class_certificates(pool: asyncpg.Pool, centre: str, class_id: UUID, *, revoked: bool | None = None,
                             after: tuple[str] | None = None, limit: int | None = None) -> list[dict]:
    """A class's certificates by number, optionally only revoked (or valid) ones, after the key `after`."""
    rows = await pool.fetch("SELECT * FROM certificates WHERE centre = $1 AND class_id = $2"
                            " AND ($3::boolean IS NULL OR revoked = $3) AND ($4::text IS NULL OR certificate_number > $4)"
                            " ORDER BY certificate_number LIMIT $5", centre, class_id, revoked, (after or (None,))[0],
                            limit)
    return [dict(r) for r in rows]


async def certificate(pool: asyncpg.Pool, centre: str, number: str) -> dict | None:
    row = await pool.fetchrow("SELECT * FROM certificates WHERE centre = $1 AND certificate_number = $2",
                              centre, number)
    return dict(row) if row else None


async def verify(pool: asyncpg.Pool, verification_code: str) -> dict | None:
    row = await pool.fetchrow("SELECT certificate_number, full_name, programme_type, class_title, issued_on, revoked,"
                              " replaced_by, centre FROM certificates WHERE verification_code = $1", verification_code)
    return dict(row) if row else None
