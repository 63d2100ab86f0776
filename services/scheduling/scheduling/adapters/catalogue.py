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
]

_COLUMNS = "code, programme_type, name, planned_sessions, max_absence_ratio, excused_absences_count, assessment_scheme"
_UPSERT = (f"INSERT INTO programmes (centre, {_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)"
           " ON CONFLICT (centre, code) DO UPDATE SET name = EXCLUDED.name, planned_sessions = EXCLUDED.planned_sessions,"
           " max_absence_ratio = EXCLUDED.max_absence_ratio, excused_absences_count = EXCLUDED.excused_absences_count,"
           " assessment_scheme = EXCLUDED.assessment_scheme, updated_at = now()")


def _args(centre: str, p: Programme) -> tuple:
    return (centre, p.code, p.programme_type.value, p.name, p.planned_sessions, p.max_absence_ratio,
            p.excused_absences_count, p.assessment_scheme)


async def ensure_seeded(pool: asyncpg.Pool, centre: str) -> None:
    """Seed the default catalogue once per centre (concurrent first uses seed it once)."""
    async with pool.acquire() as conn, conn.transaction():
        first = await conn.fetchval(
            "INSERT INTO catalogues (centre) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true", centre)
        if first:
            await conn.executemany(
                f"INSERT INTO programmes (centre, {_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING",
                [_args(centre, p) for p in default_catalogue()])


async def list_programmes(pool: asyncpg.Pool, centre: str) -> list[Programme]:
    await ensure_seeded(pool, centre)
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM programmes WHERE centre = $1 ORDER BY programme_type, code",
                            centre)
    return [Programme.model_validate(dict(r)) for r in rows]


async def get_programme(pool: asyncpg.Pool, centre: str, code: str) -> Programme | None:
    await ensure_seeded(pool, centre)
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM programmes WHERE centre = $1 AND code = $2", centre, code)
    return Programme.model_validate(dict(row)) if row else None


async def save_programme(pool: asyncpg.Pool, centre: str, programme: Programme) -> None:
    await pool.execute(_UPSERT, *_args(centre, programme))
