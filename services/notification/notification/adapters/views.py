"""The projections of other services' events: classes, and each sending organisation's learners.

Writers take the consumer's connection (they run inside its transaction, with its checkpoint); readers take the
pool. Every write is an upsert, so applying an event twice would change nothing.
"""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from ttct.contracts import ClassOpened, LearnerEnrolled, ScoreRecorded
from ttct.contracts.types import SendingOrganisation


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


async def save_enrolment(conn: asyncpg.Connection, centre: str, event: LearnerEnrolled, at: datetime) -> None:
    await conn.execute(
        """
        INSERT INTO organisation_learners (organisation_code, class_id, learner_id, centre, full_name, class_title,
                                           date_of_birth, seat_number, enrolled_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (organisation_code, class_id, learner_id) DO UPDATE SET
            full_name = excluded.full_name, class_title = excluded.class_title,
            date_of_birth = excluded.date_of_birth, seat_number = excluded.seat_number,
            enrolled_at = excluded.enrolled_at
        """,
        event.sending_organisation.code, event.class_id, event.learner_id, centre, event.full_name,
        event.class_title, event.date_of_birth, event.seat_number, at,
    )


async def save_result(conn: asyncpg.Connection, centre: str, event: ScoreRecorded, at: datetime) -> None:
    await conn.execute(
        """
        INSERT INTO organisation_learners (organisation_code, class_id, learner_id, centre, full_name, class_title,
                                           score, grade_band, scored_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (organisation_code, class_id, learner_id) DO UPDATE SET
            score = excluded.score, grade_band = excluded.grade_band, scored_at = excluded.scored_at
        WHERE organisation_learners.scored_at IS NULL OR organisation_learners.scored_at <= excluded.scored_at
        """,
        event.sending_organisation.code, event.class_id, event.learner_id, centre, event.full_name,
        event.class_title, event.score, event.grade_band.value, at,
    )


async def organisation(pool: asyncpg.Pool, code: str) -> dict | None:
    row = await pool.fetchrow("SELECT code, name FROM organisations WHERE code = $1", code)
    return dict(row) if row else None


async def learners(pool: asyncpg.Pool, code: str, class_id: UUID | None = None) -> list[dict]:
    rows = await pool.fetch(
        """
        SELECT l.class_id, l.learner_id, l.centre, l.full_name, l.class_title, l.date_of_birth, l.seat_number,
               l.enrolled_at, l.score, l.grade_band, l.scored_at, c.starts_on, c.ends_on
        FROM organisation_learners l LEFT JOIN classes c USING (class_id)
        WHERE l.organisation_code = $1 AND ($2::uuid IS NULL OR l.class_id = $2)
        """,
        code, class_id,
    )
    return [dict(r) for r in rows]
