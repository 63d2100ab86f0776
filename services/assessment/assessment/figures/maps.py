"""Which map the figures are read by: as recorded (each learner under the organisation that sent them then, the
map of that year) or by today's, the organisations merged or dissolved since rolled up into their successors.

`figure_successions` is kept from enrolment's OrganisationsMerged and OrganisationDissolved (on assessment's
existing ENROLMENT consumer, like the places) and computed again by the figures' rebuild.
"""
from __future__ import annotations

from datetime import date

import asyncpg
from ttct.contracts import Envelope
from ttct.contracts.organisation_dissolved import OrganisationDissolved
from ttct.contracts.organisations_merged import OrganisationsMerged

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS figure_successions (
        predecessor_code text PRIMARY KEY,
        successor_code   text NOT NULL,
        successor_name   text NOT NULL,
        effective_on     date NOT NULL
    )
    """,
]


async def on_succession(conn: asyncpg.Connection, envelope: Envelope,
                        event: OrganisationsMerged | OrganisationDissolved) -> None:
    predecessors = event.predecessor_codes if isinstance(event, OrganisationsMerged) else [event.code]
    await conn.execute(
        "INSERT INTO figure_successions SELECT p, $2, $3, $4 FROM unnest($1::text[]) AS p"
        " ON CONFLICT (predecessor_code) DO NOTHING",
        predecessors, event.successor_code, event.successor_name, event.effective_on)


# each predecessor in force by $1 with the end of its chain of successions
_SUCCESSORS = """
WITH RECURSIVE chain AS (
    SELECT predecessor_code AS code, successor_code, successor_name, 1 AS depth
    FROM figure_successions WHERE effective_on <= $1
    UNION ALL
    SELECT c.code, s.successor_code, s.successor_name, c.depth + 1
    FROM chain c JOIN figure_successions s ON s.predecessor_code = c.successor_code
    WHERE s.effective_on <= $1 AND c.depth < 20
)
SELECT DISTINCT ON (code) code, successor_code, successor_name FROM chain ORDER BY code, depth DESC
"""


async def successors(db: asyncpg.Pool | asyncpg.Connection, on: date) -> dict[str, tuple[str, str]]:
    """Organisation code -> (code, name) of whom it is part of on `on`, for those merged or dissolved by then."""
    return {r["code"]: (r["successor_code"], r["successor_name"]) for r in await db.fetch(_SUCCESSORS, on)}
