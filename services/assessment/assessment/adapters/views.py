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
from ttct.contracts.learner_result_finalised import LearnerResultFinalised

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
]


async def project(conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        await _apply(conn, envelope, read_event(envelope))


async def _apply(conn: asyncpg.Connection, envelope: Envelope, event) -> None:  # noqa: C901 one case per event
    at = envelope.occurred_at
    match event:
        case ScoreRecorded():
            await conn.execute(
                "INSERT INTO scores VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (class_id, learner_id, component)"
                " DO UPDATE SET score = excluded.score, grade_band = excluded.grade_band,"
                " scheme_version = excluded.scheme_version, recorded_at = excluded.recorded_at",
                event.class_id, event.learner_id, event.component, envelope.centre, event.score,
                event.grade_band.value, event.scheme_version, at)
            await conn.execute("UPDATE class_facts SET pinned_scheme = coalesce(pinned_scheme, $2) WHERE class_id = $1",
                               event.class_id, event.scheme_version)
        case ConductRated():
            await conn.execute("INSERT INTO conduct VALUES ($1,$2,$3,$4) ON CONFLICT (class_id, learner_id)"
                               " DO UPDATE SET rating = excluded.rating, note = excluded.note",
                               event.class_id, event.learner_id, event.rating, event.note)
        case AttendanceRecorded():
            await conn.execute("INSERT INTO attendance VALUES ($1,$2,$3,$4,$5)"
                               " ON CONFLICT (class_id, session_id, learner_id) DO UPDATE SET status = excluded.status",
                               event.class_id, event.session_id, event.learner_id, event.session_date, event.status)
        case EligibilityLost():
            await conn.execute("INSERT INTO eligibility_lost VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
                               event.class_id, event.learner_id, event.sessions_counted, event.absences, at)
        case LearnerResultFinalised():
            await conn.execute(
                "INSERT INTO final_results VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
                " ON CONFLICT (class_id, learner_id) DO UPDATE SET eligible = excluded.eligible,"
                " final_score = excluded.final_score, grade_band = excluded.grade_band, passed = excluded.passed,"
                " conduct = excluded.conduct, sessions_attended = excluded.sessions_attended,"
                " sessions_counted = excluded.sessions_counted, certificate_number = excluded.certificate_number,"
                " finalised_at = excluded.finalised_at",
                event.class_id, event.learner_id, envelope.centre, event.full_name, event.sending_organisation.code,
                event.eligible, event.final_score, event.grade_band.value if event.grade_band else None,
                event.passed, event.conduct, event.sessions_attended, event.sessions_counted,
                event.certificate_number, at)
        case ClassResultsFinalised():
            await conn.execute("INSERT INTO finalised_classes VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING",
                               event.class_id, envelope.centre, event.learners, event.passed, at)
        case CertificateIssued():
            await conn.execute(
                "INSERT INTO certificates VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING",
                event.certificate_number, event.verification_code, envelope.centre, event.class_id,
                event.learner_id, event.full_name, event.programme_type, event.class_title, event.issued_on)
        case CertificateRevoked():
            await conn.execute("UPDATE certificates SET revoked = true, revoked_reason = $2"
                               " WHERE certificate_number = $1", event.certificate_number, event.reason)


_SCORES = """
SELECT l.learner_id, l.full_name, l.organisation_code, s.component, s.score, s.grade_band, s.scheme_version,
       s.recorded_at
FROM class_learners l JOIN scores s USING (class_id, learner_id)
WHERE l.centre = $1 AND l.class_id = $2
"""


async def scores(pool: asyncpg.Pool, centre: str, class_id: UUID) -> list[dict]:
    return [dict(r) for r in await pool.fetch(_SCORES + " ORDER BY l.full_name, l.learner_id, s.component",
                                              centre, class_id)]


async def score(pool: asyncpg.Pool, centre: str, class_id: UUID, learner_id: UUID, component: str) -> dict | None:
    row = await pool.fetchrow(_SCORES + " AND l.learner_id = $3 AND s.component = $4", centre, class_id, learner_id,
                              component)
    return dict(row) if row else None


async def attendance(pool: asyncpg.Pool, class_id: UUID, session_id: UUID) -> list[dict]:
    rows = await pool.fetch("SELECT learner_id, status FROM attendance WHERE class_id = $1 AND session_id = $2",
                            class_id, session_id)
    return [dict(r) for r in rows]


async def final_results(pool: asyncpg.Pool, centre: str, class_id: UUID) -> list[dict]:
    rows = await pool.fetch("SELECT * FROM final_results WHERE centre = $1 AND class_id = $2"
                            " ORDER BY full_name, learner_id", centre, class_id)
    return [dict(r) for r in rows]


async def finalised_class(pool: asyncpg.Pool, centre: str, class_id: UUID) -> dict | None:
    row = await pool.fetchrow("SELECT * FROM finalised_classes WHERE centre = $1 AND class_id = $2", centre, class_id)
    return dict(row) if row else None


async def class_certificates(pool: asyncpg.Pool, centre: str, class_id: UUID) -> list[dict]:
    rows = await pool.fetch("SELECT * FROM certificates WHERE centre = $1 AND class_id = $2"
                            " ORDER BY certificate_number", centre, class_id)
    return [dict(r) for r in rows]


async def certificate(pool: asyncpg.Pool, centre: str, number: str) -> dict | None:
    row = await pool.fetchrow("SELECT * FROM certificates WHERE centre = $1 AND certificate_number = $2",
                              centre, number)
    return dict(row) if row else None


async def verify(pool: asyncpg.Pool, verification_code: str) -> dict | None:
    row = await pool.fetchrow("SELECT full_name, programme_type, class_title, revoked FROM certificates"
                              " WHERE verification_code = $1", verification_code)
    return dict(row) if row else None
