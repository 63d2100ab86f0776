"""The province's lecturers and each centre's venues: plain tables of reference data.

Not event-sourced: no other service reads them, and SessionScheduled carries the lecturer's and the venue's names,
so a session's record never depends on their later state.
"""
from __future__ import annotations

from uuid import UUID

import asyncpg
from ttct.domain.errors import Rejected
from ttct.domain.names import name_sort_key

from scheduling.domain.lecturers import RegisterLecturer, RegisterVenue

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS lecturers (
        lecturer_id   uuid PRIMARY KEY,
        full_name     text NOT NULL,
        kind          text NOT NULL,
        position      text,
        home_centre   text,
        registered_by text NOT NULL,
        registered_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX IF NOT EXISTS lecturers_by_name ON lecturers (full_name, lecturer_id)",
    """
    CREATE TABLE IF NOT EXISTS venues (
        venue_id uuid PRIMARY KEY,
        centre   text NOT NULL,
        name     text NOT NULL,
        seats    integer,
        UNIQUE (centre, name)
    )
    """,
]

_LECTURER = "lecturer_id, full_name, kind, position, home_centre"
_VENUE = "venue_id, centre, name, seats"


async def add_lecturer(pool: asyncpg.Pool, lecturer_id: UUID, command: RegisterLecturer, by: str) -> dict:
    row = await pool.fetchrow(
        f"INSERT INTO lecturers ({_LECTURER}, registered_by) VALUES ($1,$2,$3,$4,$5,$6) RETURNING {_LECTURER}",
        lecturer_id, command.full_name, command.kind.value, command.position, command.home_centre, by)
    return dict(row)


async def list_lecturers(pool: asyncpg.Pool, kind: str | None = None, *, home_centre: str | None = None,
                         after: tuple[str, UUID] | None = None, limit: int | None = None) -> list[dict]:
    """The province's lecturers in the Vietnamese order of their names (given name first), which no PostgreSQL
    collation knows: the register (hundreds) is read whole and ordered here; `after` is the last one's
    (full name, id)."""
    rows = await pool.fetch(f"SELECT {_LECTURER} FROM lecturers WHERE ($1::text IS NULL OR kind = $1)"
                            " AND ($2::text IS NULL OR home_centre = $2)", kind, home_centre)
    ordered = sorted((dict(r) for r in rows), key=lambda r: (name_sort_key(r["full_name"]), str(r["lecturer_id"])))
    if after is not None:
        key = (name_sort_key(after[0]), str(after[1]))
        ordered = [r for r in ordered if (name_sort_key(r["full_name"]), str(r["lecturer_id"])) > key]
    return ordered[:limit]


async def get_lecturer(pool: asyncpg.Pool, lecturer_id: UUID) -> dict | None:
    row = await pool.fetchrow(f"SELECT {_LECTURER} FROM lecturers WHERE lecturer_id = $1", lecturer_id)
    return dict(row) if row else None


async def names_and_kinds(pool: asyncpg.Pool, lecturer_ids: list[UUID]) -> dict[UUID, tuple[str, str]]:
    rows = await pool.fetch("SELECT lecturer_id, full_name, kind FROM lecturers WHERE lecturer_id = ANY($1::uuid[])",
                            lecturer_ids)
    return {r["lecturer_id"]: (r["full_name"], r["kind"]) for r in rows}


async def add_venue(pool: asyncpg.Pool, venue_id: UUID, centre: str, command: RegisterVenue) -> dict:
    try:
        row = await pool.fetchrow(f"INSERT INTO venues ({_VENUE}) VALUES ($1,$2,$3,$4) RETURNING {_VENUE}",
                                  venue_id, centre, command.name, command.seats)
    except asyncpg.UniqueViolationError:
        raise Rejected(f"the centre already has a venue named {command.name!r}",
                       f"Trung tâm đã có địa điểm tên {command.name!r}", code="venue-exists") from None
    return dict(row)


async def list_venues(pool: asyncpg.Pool, centre: str, *, after: tuple[str] | None = None,
                      limit: int | None = None) -> list[dict]:
    rows = await pool.fetch(f"SELECT {_VENUE} FROM venues WHERE centre = $1 AND ($2::text IS NULL OR name > $2)"
                            " ORDER BY name LIMIT $3", centre, (after or (None,))[0], limit)
    return [dict(r) for r in rows]


async def get_venue(pool: asyncpg.Pool, centre: str, venue_id: UUID) -> dict | None:
    row = await pool.fetchrow(f"SELECT {_VENUE} FROM venues WHERE centre = $1 AND venue_id = $2", centre, venue_id)
    return dict(row) if row else None
