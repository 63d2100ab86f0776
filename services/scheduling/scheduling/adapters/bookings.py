"""Lecturers and venues held by scheduled sessions, province-wide, with the no-overlap rule enforced by
PostgreSQL: an exclusion constraint over (resource, [start, end)) refuses a second booking of the same lecturer or
venue at an overlapping time, also when two requests race (the later insert waits for the earlier transaction and
then fails). Rows are written in the transaction that appends the session's events, so a refused booking appends
nothing.
"""
from __future__ import annotations

from uuid import UUID

import asyncpg
from ttct.domain.errors import Rejected

from scheduling.domain.clashes import Booking, Resource, Slot, clash_refusal

SCHEMA = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """
    CREATE TABLE IF NOT EXISTS bookings (
        session_id   uuid NOT NULL,
        kind         text NOT NULL,
        resource     text NOT NULL,
        label        text NOT NULL,
        class_id     uuid NOT NULL,
        centre       text NOT NULL,
        class_title  text NOT NULL,
        session_date date NOT NULL,
        starts_at    time NOT NULL,
        ends_at      time NOT NULL,
        during       tsrange GENERATED ALWAYS AS
                         (tsrange(session_date + starts_at, session_date + ends_at, '[)')) STORED,
        PRIMARY KEY (session_id, kind),
        CONSTRAINT bookings_no_overlap EXCLUDE USING gist (resource WITH =, during WITH &&)
    )
    """,
    "CREATE INDEX IF NOT EXISTS bookings_by_class ON bookings (class_id)",
]

_CLASHING = """
SELECT kind, resource, label, session_id, centre, class_title, session_date, starts_at, ends_at FROM bookings
WHERE resource = $1 AND during && tsrange($2::date + $3::time, $2::date + $4::time, '[)')
ORDER BY session_date, starts_at LIMIT 1
"""


async def book(conn: asyncpg.Connection, booking: Booking, class_id: UUID) -> None:
    """Hold the resource for the session, or refuse naming the session that holds it (inside `conn`'s
    transaction: a savepoint keeps the transaction usable to read the clashing row)."""
    slot = booking.slot
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO bookings (session_id, kind, resource, label, class_id, centre, class_title, session_date,"
                " starts_at, ends_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
                " ON CONFLICT (session_id, kind) DO NOTHING",
                booking.session_id, booking.kind.value, booking.key, booking.label, class_id, booking.centre,
                booking.class_title, slot.on, slot.starts_at, slot.ends_at)
    except asyncpg.ExclusionViolationError:
        row = await conn.fetchrow(_CLASHING, booking.key, slot.on, slot.starts_at, slot.ends_at)
        if row is None:  # released between the refusal and this read
            raise Rejected("the lecturer or venue was booked at that time a moment ago; try again",
                           "Giảng viên hoặc địa điểm vừa được xếp lịch trùng giờ; vui lòng thử lại",
                           code=f"{booking.kind.value}-clash") from None
        raise clash_refusal(Booking(
            kind=Resource(row["kind"]), key=row["resource"], label=row["label"], session_id=row["session_id"],
            centre=row["centre"], class_title=row["class_title"],
            slot=Slot(row["session_date"], row["starts_at"], row["ends_at"]))) from None


async def release_session(conn: asyncpg.Connection, session_id: UUID) -> None:
    await conn.execute("DELETE FROM bookings WHERE session_id = $1", session_id)


async def release_class(conn: asyncpg.Connection, class_id: UUID) -> None:
    await conn.execute("DELETE FROM bookings WHERE class_id = $1", class_id)
