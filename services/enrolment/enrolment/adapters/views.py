"""Enrolment's tables: the classes it has heard of, the learner registry, and the roster view."""
from __future__ import annotations

from uuid import UUID

import asyncpg

from ttct.contracts import ClassOpened, Envelope, LearnerEnrolled, read_event

from enrolment.domain.roster import ClassFacts

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS classes (
        class_id   uuid PRIMARY KEY,
        centre     text NOT NULL,
        title      text NOT NULL,
        capacity   integer NOT NULL,
        starts_on  date NOT NULL,
        ends_on    date NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS learners (
        learner_id   uuid PRIMARY KEY,
        identity_key text NOT NULL UNIQUE
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS enrolments (
        class_id          uuid NOT NULL,
        learner_id        uuid NOT NULL,
        centre            text NOT NULL,
        seat_number       integer NOT NULL,
        full_name         text NOT NULL,
        date_of_birth     date NOT NULL,
        organisation_code text NOT NULL,
        organisation_name text NOT NULL,
        enrolled_at       timestamptz NOT NULL,
        PRIMARY KEY (class_id, learner_id)
    )
    """,
]


async def on_class_opened(conn: asyncpg.Connection, envelope: Envelope, event: ClassOpened) -> None:
    await conn.execute(
        "INSERT INTO classes (class_id, centre, title, capacity, starts_on, ends_on) VALUES ($1,$2,$3,$4,$5,$6)"
        " ON CONFLICT (class_id) DO NOTHING",
        event.class_id, envelope.centre, event.title, event.capacity, event.starts_on, event.ends_on,
    )


async def class_facts(pool: asyncpg.Pool, centre: str, class_id: UUID) -> ClassFacts | None:
    row = await pool.fetchrow(
        "SELECT class_id, title, capacity FROM classes WHERE centre = $1 AND class_id = $2", centre, class_id
    )
    return ClassFacts(**row) if row else None


async def learner_id_for(pool: asyncpg.Pool, key: str, new_id: UUID) -> UUID:
    """The registry's id for this person, registering them on first sight (race-safe)."""
    async with pool.acquire() as conn:
        found = await conn.fetchval(
            "INSERT INTO learners (learner_id, identity_key) VALUES ($1, $2)"
            " ON CONFLICT (identity_key) DO NOTHING RETURNING learner_id", new_id, key,
        )
        return found or await conn.fetchval("SELECT learner_id FROM learners WHERE identity_key = $1", key)


async def project(conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        event = read_event(envelope)
        if isinstance(event, LearnerEnrolled):
            await conn.execute(
                "INSERT INTO enrolments VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING",
                event.class_id, event.learner_id, envelope.centre, event.seat_number, event.full_name,
                event.date_of_birth, event.sending_organisation.code, event.sending_organisation.name,
                envelope.occurred_at,
            )


_ROSTER = """
SELECT learner_id, seat_number, full_name, date_of_birth, organisation_code, organisation_name, enrolled_at
FROM enrolments WHERE centre = $1 AND class_id = $2
"""


async def roster(pool: asyncpg.Pool, centre: str, class_id: UUID) -> list[dict]:
    return [dict(r) for r in await pool.fetch(_ROSTER + " ORDER BY seat_number", centre, class_id)]


async def enrolment(pool: asyncpg.Pool, centre: str, class_id: UUID, learner_id: UUID) -> dict | None:
    row = await pool.fetchrow(_ROSTER + " AND learner_id = $3", centre, class_id, learner_id)
    return dict(row) if row else None
