"""The centre's class list, updated in the transaction that appends the class's events."""
from __future__ import annotations

from uuid import UUID

import asyncpg

from ttct.contracts import ClassOpened, Envelope, read_event

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS classes (
        class_id       uuid PRIMARY KEY,
        centre         text NOT NULL,
        programme_type text NOT NULL,
        title          text NOT NULL,
        capacity       integer NOT NULL,
        starts_on      date NOT NULL,
        ends_on        date NOT NULL,
        venue          text NOT NULL,
        status         text NOT NULL,
        opened_at      timestamptz NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS classes_by_centre ON classes (centre, starts_on, class_id)",
]

_COLUMNS = "class_id, centre, programme_type, title, capacity, starts_on, ends_on, venue, status, opened_at"


async def project(conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        event = read_event(envelope)
        if isinstance(event, ClassOpened):
            await conn.execute(
                f"INSERT INTO classes ({_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'open',$9)"
                " ON CONFLICT (class_id) DO NOTHING",
                event.class_id, envelope.centre, event.programme_type.value, event.title, event.capacity,
                event.starts_on, event.ends_on, event.venue, envelope.occurred_at,
            )


async def list_classes(pool: asyncpg.Pool, centre: str) -> list[dict]:
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM classes WHERE centre = $1 ORDER BY starts_on, class_id", centre)
    return [dict(r) for r in rows]


async def get_class(pool: asyncpg.Pool, centre: str, class_id: UUID) -> dict | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM classes WHERE centre = $1 AND class_id = $2", centre, class_id)
    return dict(row) if row else None
