"""The views of course evaluations and lessons-learned reviews, updated in the transaction that appends them: each
form's answers (no learner in them), each lecturer's ratings, the class's review; and what they add up to per
class, lecturer and programme type."""
from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg
from ttct.contracts import Envelope, read_event
from ttct.contracts.class_reviewed import ClassReviewed
from ttct.contracts.course_evaluated import CourseEvaluated

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS course_evaluations (
        evaluation_id uuid PRIMARY KEY,
        class_id      uuid NOT NULL,
        centre        text NOT NULL,
        content       smallint,
        organisation  smallint,
        comment       text,
        evaluated_at  timestamptz NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS course_evaluations_by_class ON course_evaluations (class_id, evaluated_at)",
    """
    CREATE TABLE IF NOT EXISTS course_evaluation_lecturers (
        evaluation_id uuid NOT NULL,
        lecturer_id   uuid NOT NULL,
        class_id      uuid NOT NULL,
        centre        text NOT NULL,
        rating        smallint NOT NULL,
        PRIMARY KEY (evaluation_id, lecturer_id)
    )
    """,
    "CREATE INDEX IF NOT EXISTS course_evaluation_lecturers_by_class ON course_evaluation_lecturers (class_id)",
    """
    CREATE TABLE IF NOT EXISTS class_reviews (
        class_id     uuid PRIMARY KEY,
        centre       text NOT NULL,
        strengths    text,
        shortcomings text,
        lessons      text NOT NULL,
        reviewed_at  timestamptz NOT NULL
    )
    """,
]
TABLES = ("course_evaluations", "course_evaluation_lecturers", "class_reviews")


async def project(conn: asyncpg.Connection, envelopes: Sequence[Envelope]) -> None:
    for envelope in envelopes:
        match read_event(envelope):
            case CourseEvaluated() as e:
                await conn.execute("INSERT INTO course_evaluations VALUES ($1,$2,$3,$4,$5,$6,$7)"
                                   " ON CONFLICT (evaluation_id) DO NOTHING", e.evaluation_id, e.class_id,
                                   envelope.centre, e.content, e.organisation, e.comment, envelope.occurred_at)
                await conn.executemany("INSERT INTO course_evaluation_lecturers VALUES ($1,$2,$3,$4,$5)"
                                       " ON CONFLICT (evaluation_id, lecturer_id) DO NOTHING",
                                       [(e.evaluation_id, r.lecturer_id, e.class_id, envelope.centre, r.rating)
                                        for r in e.lecturers])
            case ClassReviewed() as e:
                await conn.execute(
                    "INSERT INTO class_reviews VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (class_id) DO UPDATE SET"
                    " strengths = excluded.strengths, shortcomings = excluded.shortcomings,"
                    " lessons = excluded.lessons, reviewed_at = excluded.reviewed_at",
                    e.class_id, envelope.centre, e.strengths, e.shortcomings, e.lessons, envelope.occurred_at)


_AVG = "round(avg({0})::numeric, 2)"


async def class_summary(pool: asyncpg.Pool, centre: str, class_id: UUID) -> dict:
    """The class's forms: how many, each question's answers and average, each lecturer's, the comments."""
    forms = await pool.fetchrow(
        f"SELECT count(*)::int AS forms, count(content)::int AS content_answers, {_AVG.format('content')} AS content,"
        f" count(organisation)::int AS organisation_answers, {_AVG.format('organisation')} AS organisation"
        " FROM course_evaluations WHERE centre = $1 AND class_id = $2", centre, class_id)
    lecturers = await pool.fetch(
        f"SELECT r.lecturer_id, count(*)::int AS answers, {_AVG.format('r.rating')} AS average,"
        " (SELECT s.lecturer_name FROM class_sessions s WHERE s.class_id = r.class_id AND s.lecturer_id = r.lecturer_id"
        "  LIMIT 1) AS full_name"
        " FROM course_evaluation_lecturers r WHERE r.centre = $1 AND r.class_id = $2 GROUP BY r.class_id, r.lecturer_id",
        centre, class_id)
    comments = await pool.fetch("SELECT comment FROM course_evaluations WHERE centre = $1 AND class_id = $2"
                                " AND comment IS NOT NULL ORDER BY evaluated_at, evaluation_id", centre, class_id)
    review = await pool.fetchrow("SELECT strengths, shortcomings, lessons, reviewed_at FROM class_reviews"
                                 " WHERE centre = $1 AND class_id = $2", centre, class_id)
    return {**dict(forms), "lecturers": [dict(r) for r in lecturers], "comments": [r["comment"] for r in comments],
            "review": dict(review) if review else None}


_CLASSES_OF_YEAR = ("SELECT class_id, centre, title, programme_type, starts_on FROM class_facts"
                    " WHERE extract(year FROM starts_on) = $1 AND ($2::text IS NULL OR centre = $2)")


async def by_class(pool: asyncpg.Pool, year: int, centre: str | None) -> list[dict]:
    rows = await pool.fetch(
        f"WITH c AS ({_CLASSES_OF_YEAR}) SELECT c.*, count(e.*)::int AS forms,"
        f" {_AVG.format('e.content')} AS content, {_AVG.format('e.organisation')} AS organisation,"
        f" (SELECT {_AVG.format('r.rating')} FROM course_evaluation_lecturers r WHERE r.class_id = c.class_id)"
        "  AS lecturers, EXISTS (SELECT 1 FROM class_reviews v WHERE v.class_id = c.class_id) AS reviewed"
        " FROM c JOIN course_evaluations e USING (class_id)"
        " GROUP BY c.class_id, c.centre, c.title, c.programme_type, c.starts_on ORDER BY c.starts_on, c.class_id",
        year, centre)
    return [dict(r) for r in rows]


async def by_lecturer(pool: asyncpg.Pool, year: int, centre: str | None) -> list[dict]:
    rows = await pool.fetch(
        f"WITH c AS ({_CLASSES_OF_YEAR}) SELECT r.lecturer_id, count(DISTINCT r.class_id)::int AS classes,"
        f" count(*)::int AS answers, {_AVG.format('r.rating')} AS average,"
        " (SELECT s.lecturer_name FROM class_sessions s WHERE s.lecturer_id = r.lecturer_id LIMIT 1) AS full_name"
        " FROM c JOIN course_evaluation_lecturers r USING (class_id) GROUP BY r.lecturer_id", year, centre)
    return [dict(r) for r in rows]


async def by_programme(pool: asyncpg.Pool, year: int, centre: str | None) -> list[dict]:
    rows = await pool.fetch(
        f"WITH c AS ({_CLASSES_OF_YEAR}) SELECT c.programme_type, count(DISTINCT c.class_id)::int AS classes,"
        f" count(*)::int AS forms, {_AVG.format('e.content')} AS content,"
        f" {_AVG.format('e.organisation')} AS organisation"
        " FROM c JOIN course_evaluations e USING (class_id) GROUP BY c.programme_type ORDER BY c.programme_type",
        year, centre)
    return [dict(r) for r in rows]
