"""Each centre's programme catalogue: a plain table, seeded with one programme per type on the centre's first use.

Not event-sourced: only scheduling reads it, and what matters of a programme to anyone else is copied into the
class's events when it applies (ClassPlanned names the programme, ClassOpened carries its rules), so a class never
depends on the catalogue's later state and no other service needs its history.
"""
from __future__ import annotations

import asyncpg

from scheduling.domain.programmes import Programme, default_catalogue

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS catalogues (
        centre    text PRIMARY KEY,
        seeded_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS programmes (
        centre                 text    NOT NULL,
        code                   text    NOT NULL,
        programme_type         text    NOT NULL,
        name                   text    NOT NULL,
        planned_sessions       integer NOT NULL,
        max_absence_ratio      numeric NOT NULL,
        excused_absences_count boolean NOT NULL,
        assessment_scheme      text    NOT NULL,
        updated_at             timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (centre, code)
    )
    """,
    # A programme's version, raised by every save: its ETag, for If-Match on a change.
    "ALTER TABLE programmes ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1",
    "ALTER TABLE programmes ADD COLUMN IF NOT EXISTS requires_dispatch_decision boolean NOT NULL DEFAULT false",
]

_COLUMNS = ("code, programme_type, name, planned_sessions, max_absence_ratio, excused_absences_count, assessment_scheme,"
            " requires_dispatch_decision")
_UPSERT = (f"INSERT INTO programmes (centre, {_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
           " ON CONFLICT (centre, code) DO UPDATE SET name = EXCLUDED.name, planned_sessions = EXCLUDED.planned_sessions,"
           " max_absence_ratio = EXCLUDED.max_absence_ratio, excused_absences_count = EXCLUDED.excused_absences_count,"
           " assessment_scheme = EXCLUDED.assessment_scheme,"
           " requires_dispatch_decision = EXCLUDED.requires_dispatch_decision,"
           " updated_at = now(), version = programmes.version + 1"
           " WHERE $10::integer IS NULL OR programmes.version = $10 RETURNING version")


def _args(centre: str, p: Programme) -> tuple:
    return (centre, p.code, p.programme_type.value, p.name, p.planned_sessions, p.max_absence_ratio,
            p.excused_absences_count, p.assessment_scheme, p.requires_dispatch_decision)


async def ensure_seeded(pool: asyncpg.Pool, centre: str) -> None:
    """Seed the default catalogue once per centre (concurrent first uses seed it once)."""
    async with pool.acquire() as conn, conn.transaction():
        first = await conn.fetchval(
            "INSERT INTO catalogues (centre) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true", centre)
        if first:
            await conn.executemany(
                f"INSERT INTO programmes (centre, {_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)"
                " ON CONFLICT DO NOTHING",
                [_args(centre, p) for p in default_catalogue()])


async def list_programmes(pool: asyncpg.Pool, centre: str, *, programme_type: str | None = None,
                          after: tuple[str, str] | None = None, limit: int | None = None) -> list[Programme]:
    await ensure_seeded(pool, centre)
    after_type, after_code = after or (None, None)
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM programmes WHERE centre = $1"
                            " AND ($2::text IS NULL OR programme_type = $2)"
                            " AND ($3::text IS NULL OR (programme_type, code) > ($3, $4::text))"
                            " ORDER BY programme_type, code LIMIT $5", centre, programme_type, after_type, after_code,
                            limit)
    return [Programme.model_validate(dict(r)) for r in rows]


async def get_programme(pool: asyncpg.Pool, centre: str, code: str) -> Programme | None:
    found = await get_versioned(pool, centre, code)
    return found[0] if found else None


async def get_versioned(pool: asyncpg.Pool, centre: str, code: str) -> tuple[Programme, int] | None:
    """The programme and its version (its ETag)."""
    await ensure_seeded(pool, centre)
    row = await pool.fetchrow(f"SELECT {_COLUMNS}, version FROM programmes WHERE centre = $1 AND code = $2",
                              centre, code)
    if row is None:
        return None
    found = dict(row)
    version = found.pop("version")
    return Programme.model_validate(found), version


async def save_programme(pool: asyncpg.Pool, centre: str, programme: Programme,
                         expected_version: int | None = None) -> int | None:
    """Create or change the programme; with `expected_version`, only if that is still its version (atomic).
    The new version, or None when the programme changed meanwhile."""
    return await pool.fetchval(_UPSERT, *_args(centre, programme), expected_version)
