"""The sending organisations' directory view, written by `project` with the organisation's events."""
from __future__ import annotations

import json
from datetime import date

import asyncpg
from ttct.contracts import Envelope, read_event
from ttct.contracts.sending_organisation_registered import SendingOrganisationRegistered

from enrolment.adapters import reorganisation
from enrolment.domain.organisations import ParentFacts

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS organisations (
        code          text PRIMARY KEY,
        centre        text NOT NULL,
        name          text NOT NULL,
        kind          text NOT NULL,
        parent_code   text,
        contacts      jsonb NOT NULL,
        registered_at timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS organisations_by_parent ON organisations (parent_code)",
    # A rename dated ahead: the name enrolments use until `renamed_on` (OrganisationRenamed).
    "ALTER TABLE organisations ADD COLUMN IF NOT EXISTS previous_name text",
    "ALTER TABLE organisations ADD COLUMN IF NOT EXISTS renamed_on date",
]


async def project(conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        event = read_event(envelope)
        if isinstance(event, SendingOrganisationRegistered):
            await conn.execute(
                "INSERT INTO organisations VALUES ($1,$2,$3,$4,$5,$6,$7,$7) ON CONFLICT (code) DO UPDATE SET"
                " centre = excluded.centre, name = excluded.name, kind = excluded.kind,"
                " parent_code = excluded.parent_code, contacts = excluded.contacts, updated_at = excluded.updated_at",
                event.code, envelope.centre, event.name, event.kind, event.parent_code,
                json.dumps([c.model_dump(mode="json") for c in event.contacts], ensure_ascii=False),
                envelope.occurred_at)
        else:
            await reorganisation.project(conn, envelope, event)


_SELECT = """
SELECT code, centre, name, kind, parent_code, contacts, registered_at, updated_at, previous_name, renamed_on,
       (SELECT count(*) FROM organisations c WHERE c.parent_code = o.code)::int AS children,
       s.successor_code, s.change AS succession, s.effective_on AS succeeded_on
FROM organisations o LEFT JOIN organisation_successions s ON s.predecessor_code = o.code
"""


def _row(row: asyncpg.Record) -> dict:
    found = dict(row)
    found["contacts"] = json.loads(found["contacts"])
    return found


async def get(db: asyncpg.Pool | asyncpg.Connection, code: str) -> dict | None:
    row = await db.fetchrow(_SELECT + " WHERE code = $1", code)
    return _row(row) if row else None


async def parent_facts(db: asyncpg.Pool, code: str | None) -> ParentFacts | None:
    if code is None:
        return None
    row = await db.fetchrow("SELECT code, kind, centre FROM organisations WHERE code = $1", code)
    return ParentFacts(**row) if row else None


async def list_organisations(db: asyncpg.Pool, *, kind: str | None, parent: str | None, centre: str | None,
                             after: tuple[str, str] | None = None, limit: int | None = None) -> list[dict]:
    after_centre, after_code = after or (None, None)
    rows = await db.fetch(
        _SELECT + " WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR parent_code = $2)"
        " AND ($3::text IS NULL OR centre = $3) AND ($4::text IS NULL OR (centre, code) > ($4, $5::text))"
        " ORDER BY centre, code LIMIT $6", kind, parent, centre, after_centre, after_code, limit)
    return [_row(r) for r in rows]


# $1 the codes, $2 the day (None: the latest names)
NAMES = ("SELECT code, CASE WHEN $2::date < renamed_on THEN previous_name ELSE name END AS name FROM organisations"
         " WHERE code = ANY($1::text[])")


async def names(db: asyncpg.Pool | asyncpg.Connection, codes: list[str], today: date | None = None) -> dict[str, str]:
    """The registered names of those of `codes` the directory knows, by code: on `today` (a rename dated after
    it not yet in force), or the latest."""
    rows = await db.fetch(NAMES, sorted(set(codes)), today)
    return {r["code"]: r["name"] for r in rows}
