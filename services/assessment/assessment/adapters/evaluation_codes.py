"""The one-time codes with which learners fill in a class's evaluation form themselves (phiếu khảo sát trực tuyến).

The centre prints the codes on slips and hands them out at random, so a code says which class a form is about and
nothing about who filled it in. Only a hash of each code is kept: the codes are shown once, when issued. A code is
used in the transaction that appends its CourseEvaluated, so two forms sent with one code make one form.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from uuid import UUID

import asyncpg

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS evaluation_codes (
        code_hash  text PRIMARY KEY,
        class_id   uuid NOT NULL,
        centre     text NOT NULL,
        issued_at  timestamptz NOT NULL,
        used_at    timestamptz,
        voided_at  timestamptz
    )
    """,
    "CREATE INDEX IF NOT EXISTS evaluation_codes_by_class ON evaluation_codes (class_id) WHERE used_at IS NULL",
]


def code_hash(code: str) -> str:
    """The code as typed or read from its QR code, whatever the case, spaces or dashes."""
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


async def unused(db: asyncpg.Pool | asyncpg.Connection, centre: str, class_id: UUID) -> int:
    return await db.fetchval("SELECT count(*)::int FROM evaluation_codes WHERE centre = $1 AND class_id = $2"
                             " AND used_at IS NULL AND voided_at IS NULL", centre, class_id)


async def void_unused(conn: asyncpg.Connection, centre: str, class_id: UUID, at: datetime) -> int:
    done = await conn.execute("UPDATE evaluation_codes SET voided_at = $3 WHERE centre = $1 AND class_id = $2"
                              " AND used_at IS NULL AND voided_at IS NULL", centre, class_id, at)
    return int(done.split()[-1])


async def issue(conn: asyncpg.Connection, centre: str, class_id: UUID, codes: list[str], at: datetime) -> None:
    await conn.executemany("INSERT INTO evaluation_codes (code_hash, class_id, centre, issued_at) VALUES ($1,$2,$3,$4)",
                           [(code_hash(c), class_id, centre, at) for c in codes])


async def find(db: asyncpg.Pool | asyncpg.Connection, code: str) -> dict | None:
    row = await db.fetchrow("SELECT class_id, centre, used_at, voided_at FROM evaluation_codes WHERE code_hash = $1",
                            code_hash(code))
    return dict(row) if row else None


async def use(conn: asyncpg.Connection, code: str, at: datetime) -> bool:
    """Mark the code used; False if it was used (or voided) meanwhile: its form must not be kept."""
    return await conn.fetchval("UPDATE evaluation_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL"
                               " AND voided_at IS NULL RETURNING true", code_hash(code), at) or False
