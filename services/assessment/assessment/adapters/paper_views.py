"""What the papers read beyond the views the API lists: a class's header, a session's details, every mark of a
class, the final results with their organisations' names, and certificates with what they print."""
from __future__ import annotations

from uuid import UUID

import asyncpg


async def class_header(pool: asyncpg.Pool, centre: str, class_id: UUID) -> dict | None:
    row = await pool.fetchrow("SELECT class_id, title, programme_type, starts_on, ends_on, max_absence_ratio"
                              " FROM class_facts WHERE centre = $1 AND class_id = $2", centre, class_id)
    return dict(row) if row else None


async def session(pool: asyncpg.Pool, centre: str, class_id: UUID, session_id: UUID) -> dict | None:
    row = await pool.fetchrow("SELECT session_id, session_date, starts_at, ends_at, topic, venue, lecturer_name,"
                              " field_trip_site, cancelled FROM class_sessions"
                              " WHERE centre = $1 AND class_id = $2 AND session_id = $3", centre, class_id, session_id)
    return dict(row) if row else None


async def sessions(pool: asyncpg.Pool, centre: str, class_id: UUID) -> list[dict]:
    """The class's sessions still held, in time order."""
    rows = await pool.fetch("SELECT session_id, session_date, starts_at FROM class_sessions WHERE centre = $1"
                            " AND class_id = $2 AND NOT cancelled AND session_date IS NOT NULL"
                            " ORDER BY session_date, starts_at NULLS FIRST, session_id", centre, class_id)
    return [dict(r) for r in rows]


async def marks(pool: asyncpg.Pool, class_id: UUID) -> dict[tuple[UUID, UUID], str]:
    """(session, learner) → the status recorded."""
    rows = await pool.fetch("SELECT session_id, learner_id, status FROM attendance WHERE class_id = $1", class_id)
    return {(r["session_id"], r["learner_id"]): r["status"] for r in rows}


async def final_results(pool: asyncpg.Pool, centre: str, class_id: UUID,
                        organisation: str | None = None) -> list[dict]:
    rows = await pool.fetch(
        "SELECT r.*, coalesce(l.organisation_name, r.organisation_code) AS organisation_name"
        " FROM final_results r LEFT JOIN class_learners l USING (class_id, learner_id)"
        " WHERE r.centre = $1 AND r.class_id = $2 AND ($3::text IS NULL OR r.organisation_code = $3)",
        centre, class_id, organisation)
    return [dict(r) for r in rows]


async def certificate_papers(pool: asyncpg.Pool, centre: str, class_id: UUID, number: str | None) -> list[dict]:
    """The class's valid certificates by number, or the one named (valid or not), with what a certificate prints."""
    rows = await pool.fetch(
        "SELECT c.*, l.organisation_name, r.grade_band, f.starts_on, f.ends_on FROM certificates c"
        " LEFT JOIN class_learners l USING (class_id, learner_id)"
        " LEFT JOIN final_results r USING (class_id, learner_id)"
        " LEFT JOIN class_facts f USING (class_id)"
        " WHERE c.centre = $1 AND c.class_id = $2"
        " AND (($3::text IS NULL AND NOT c.revoked) OR c.certificate_number = $3) ORDER BY c.certificate_number",
        centre, class_id, number)
    return [dict(r) for r in rows]
