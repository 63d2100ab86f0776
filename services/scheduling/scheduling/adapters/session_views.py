"""The sessions of every class in the province, and the lecturer and venue each one holds (bookings.py)."""
from __future__ import annotations

from datetime import date, datetime, time
from uuid import UUID

import asyncpg
from ttct.contracts import Envelope
from ttct.contracts.session_cancelled import SessionCancelled
from ttct.contracts.session_scheduled import SessionScheduled

from scheduling.adapters import bookings
from scheduling.domain.clashes import Booking, Resource, Slot, resource_key
from scheduling.domain.teaching_hours import TaughtSession

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS sessions (
        session_id      uuid PRIMARY KEY,
        class_id        uuid NOT NULL,
        centre          text NOT NULL,
        class_title     text NOT NULL,
        session_date    date NOT NULL,
        starts_at       time NOT NULL,
        ends_at         time NOT NULL,
        topic           text NOT NULL,
        venue           text NOT NULL,
        lecturer_id     uuid NOT NULL,
        lecturer_name   text NOT NULL,
        field_trip_site text,
        status          text NOT NULL,
        scheduled_at    timestamptz NOT NULL,
        cancelled_at    timestamptz
    )
    """,
    "CREATE INDEX IF NOT EXISTS sessions_by_class ON sessions (class_id, session_date, starts_at)",
    "CREATE INDEX IF NOT EXISTS sessions_by_lecturer ON sessions (lecturer_id, session_date, starts_at)",
]

_COLUMNS = ("session_id, class_id, centre, class_title, session_date, starts_at, ends_at, topic, venue, lecturer_id,"
            " lecturer_name, field_trip_site, status")


async def project(conn: asyncpg.Connection, envelope: Envelope, event: SessionScheduled | SessionCancelled) -> None:
    if isinstance(event, SessionCancelled):
        await conn.execute("UPDATE sessions SET status = 'cancelled', cancelled_at = $2 WHERE session_id = $1",
                           event.session_id, envelope.occurred_at)
        await bookings.release_session(conn, event.session_id)
        return
    title = await conn.fetchval("SELECT title FROM classes WHERE class_id = $1", event.class_id)
    await conn.execute(
        f"INSERT INTO sessions ({_COLUMNS}, scheduled_at)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'scheduled',$13)"
        " ON CONFLICT (session_id) DO NOTHING",
        event.session_id, event.class_id, envelope.centre, title, event.session_date, event.starts_at, event.ends_at,
        event.topic, event.venue, event.lecturer_id, event.lecturer_name, event.field_trip_site, envelope.occurred_at)
    slot = Slot(event.session_date, event.starts_at, event.ends_at)
    held = [(Resource.lecturer, resource_key(Resource.lecturer, event.lecturer_id), event.lecturer_name)]
    if event.field_trip_site is None:  # a field trip goes out to its site and holds none of the centre's venues
        held.append((Resource.venue, resource_key(Resource.venue, event.venue, envelope.centre), event.venue))
    for kind, key, label in held:
        await bookings.book(conn, Booking(kind=kind, key=key, label=label, session_id=event.session_id,
                                          centre=envelope.centre, class_title=title, slot=slot), event.class_id)


async def cancel_class(conn: asyncpg.Connection, class_id: UUID, at: datetime) -> None:
    await conn.execute("UPDATE sessions SET status = 'cancelled', cancelled_at = $2"
                       " WHERE class_id = $1 AND status = 'scheduled'", class_id, at)
    await bookings.release_class(conn, class_id)


SessionKey = tuple[date, time, UUID]
_AFTER = ("($2::date IS NULL OR (session_date, starts_at, session_id) > ($2, $3::time, $4::uuid))"
          " ORDER BY session_date, starts_at, session_id LIMIT $5")


def _after(after: SessionKey | None) -> tuple:
    return after or (None, None, None)


async def list_for_class(pool: asyncpg.Pool, class_id: UUID, *, after: SessionKey | None = None,
                         limit: int | None = None) -> list[dict]:
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM sessions WHERE class_id = $1 AND {_AFTER}", class_id,
                            *_after(after), limit)
    return [dict(r) for r in rows]


async def list_for_lecturer(pool: asyncpg.Pool, lecturer_id: UUID, *, after: SessionKey | None = None,
                            limit: int | None = None) -> list[dict]:
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM sessions WHERE lecturer_id = $1 AND status = 'scheduled'"
                            f" AND {_AFTER}", lecturer_id, *_after(after), limit)
    return [dict(r) for r in rows]


async def get(pool: asyncpg.Pool, class_id: UUID, session_id: UUID) -> dict | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM sessions WHERE class_id = $1 AND session_id = $2",
                              class_id, session_id)
    return dict(row) if row else None


async def taught_at(pool: asyncpg.Pool, centre: str, first: date, last: date) -> list[TaughtSession]:
    """The centre's sessions from `first` to `last` (inclusive) that were not cancelled: held, or still to come."""
    rows = await pool.fetch("SELECT lecturer_id, lecturer_name, session_date, starts_at, ends_at FROM sessions"
                            " WHERE centre = $1 AND status = 'scheduled' AND session_date BETWEEN $2 AND $3",
                            centre, first, last)
    return [TaughtSession(**r) for r in rows]
