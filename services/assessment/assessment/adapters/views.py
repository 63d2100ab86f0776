"""Assessment's tables: the learners it has heard of per class, and the class's results."""
from __future__ import annotations

from uuid import UUID

import asyncpg

from ttct.contracts import Envelope, LearnerEnrolled, ScoreRecorded, read_event
from ttct.contracts.types import SendingOrganisation

from assessment.domain.results import LearnerInClass

SCHEMA = [
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
    """
    CREATE TABLE IF NOT EXISTS results (
        class_id    uuid NOT NULL,
        learner_id  uuid NOT NULL,
        centre      text NOT NULL,
        score       numeric(3, 1) NOT NULL,
        grade_band  text NOT NULL,
        recorded_at timestamptz NOT NULL,
        PRIMARY KEY (class_id, learner_id)
    )
    """,
]


async def on_learner_enrolled(conn: asyncpg.Connection, envelope: Envelope, event: LearnerEnrolled) -> None:
    await conn.execute(
        "INSERT INTO class_learners VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
        event.class_id, event.learner_id, envelope.centre, event.class_title, event.full_name,
        event.sending_organisation.code, event.sending_organisation.name,
    )


async def learner_in_class(pool: asyncpg.Pool, centre: str, class_id: UUID, learner_id: UUID) -> LearnerInClass | None:
    row = await pool.fetchrow(
        "SELECT * FROM class_learners WHERE centre = $1 AND class_id = $2 AND learner_id = $3",
        centre, class_id, learner_id,
    )
    if row is None:
        return None
    return LearnerInClass(
        class_id=row["class_id"], class_title=row["class_title"], learner_id=row["learner_id"],
        full_name=row["full_name"],
        sending_organisation=SendingOrganisation(code=row["organisation_code"], name=row["organisation_name"]),
    )


async def project(conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        event = read_event(envelope)
        if isinstance(event, ScoreRecorded):
            await conn.execute(
                "INSERT INTO results VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (class_id, learner_id)"
                " DO UPDATE SET score = excluded.score, grade_band = excluded.grade_band,"
                " recorded_at = excluded.recorded_at",
                event.class_id, event.learner_id, envelope.centre, event.score, event.grade_band.value,
                envelope.occurred_at,
            )


_RESULTS = """
SELECT l.learner_id, l.full_name, l.organisation_code, r.score, r.grade_band, r.recorded_at
FROM class_learners l JOIN results r USING (class_id, learner_id)
WHERE l.centre = $1 AND l.class_id = $2
"""


async def results(pool: asyncpg.Pool, centre: str, class_id: UUID) -> list[dict]:
    return [dict(r) for r in await pool.fetch(_RESULTS + " ORDER BY l.full_name", centre, class_id)]


async def result(pool: asyncpg.Pool, centre: str, class_id: UUID, learner_id: UUID) -> dict | None:
    row = await pool.fetchrow(_RESULTS + " AND l.learner_id = $3", centre, class_id, learner_id)
    return dict(row) if row else None


async def class_known(pool: asyncpg.Pool, centre: str, class_id: UUID) -> bool:
    return bool(await pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM class_learners WHERE centre = $1 AND class_id = $2)", centre, class_id))
