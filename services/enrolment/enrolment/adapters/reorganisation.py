"""Who succeeded whom in the directory (merges and dissolutions), renames and moves applied to the directory's
view, and what a change would move (its preview). Written by `organisations.project` with the events."""
from __future__ import annotations

import json
from datetime import date

import asyncpg
from ttct.contracts import DomainEvent, Envelope
from ttct.contracts.organisation_dissolved import OrganisationDissolved
from ttct.contracts.organisation_moved import OrganisationMoved
from ttct.contracts.organisation_renamed import OrganisationRenamed
from ttct.contracts.organisations_merged import OrganisationsMerged

from enrolment.domain.reorganisation import DirectoryFacts, Succession

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS organisation_successions (
        predecessor_code text PRIMARY KEY,
        successor_code   text NOT NULL,
        change           text NOT NULL CHECK (change IN ('merged', 'dissolved')),
        effective_on     date NOT NULL,
        decision         jsonb NOT NULL,
        recorded_at      timestamptz NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS organisation_successions_by_successor ON organisation_successions (successor_code)",
]


async def _succeed(conn: asyncpg.Connection, predecessors: list[str], successor: str, change: str,
                   effective_on: date, decision: dict, at) -> None:
    await conn.execute(
        "INSERT INTO organisation_successions SELECT p, $2, $3, $4, $5::jsonb, $6 FROM unnest($1::text[]) AS p"
        " ON CONFLICT (predecessor_code) DO NOTHING",
        predecessors, successor, change, effective_on, json.dumps(decision, ensure_ascii=False), at)


async def project(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
    at = envelope.occurred_at
    if isinstance(event, OrganisationsMerged):
        await _succeed(conn, event.predecessor_codes, event.successor_code, "merged", event.effective_on,
                       event.decision.model_dump(mode="json"), at)
    elif isinstance(event, OrganisationDissolved):
        await _succeed(conn, [event.code], event.successor_code, "dissolved", event.effective_on,
                       event.decision.model_dump(mode="json"), at)
    elif isinstance(event, OrganisationRenamed):
        await conn.execute(
            "UPDATE organisations SET previous_name = $2, name = $3, renamed_on = $4, updated_at = $5 WHERE code = $1",
            event.code, event.previous_name, event.name, event.effective_on, at)
    elif isinstance(event, OrganisationMoved):
        await conn.execute(
            "UPDATE organisations SET parent_code = $2, centre = $3, updated_at = $4 WHERE code = $1",
            event.code, event.parent_code, envelope.centre, at)


async def facts(db: asyncpg.Pool | asyncpg.Connection, codes: list[str]) -> dict[str, DirectoryFacts]:
    rows = await db.fetch(
        "SELECT o.code, o.name, o.kind, o.centre, o.parent_code, s.successor_code, s.effective_on"
        " FROM organisations o LEFT JOIN organisation_successions s ON s.predecessor_code = o.code"
        " WHERE o.code = ANY($1::text[])", sorted({c for c in codes if c}))
    return {r["code"]: DirectoryFacts(**r) for r in rows}


# A chain (a merged into b, b later into c) is followed to its end: the error names who sends learners now.
# $1 the codes, $2 the day.
CHAIN = """
WITH RECURSIVE chain AS (
    SELECT s.predecessor_code AS code, s.successor_code, s.effective_on, s.decision, 1 AS depth
    FROM organisation_successions s WHERE s.predecessor_code = ANY($1::text[]) AND s.effective_on <= $2
    UNION ALL
    SELECT c.code, s.successor_code, c.effective_on, c.decision, c.depth + 1
    FROM chain c JOIN organisation_successions s ON s.predecessor_code = c.successor_code
    WHERE s.effective_on <= $2 AND c.depth < 20
)
SELECT DISTINCT ON (c.code) c.code, c.successor_code, o.name AS successor_name, c.effective_on,
       c.decision ->> 'number' AS decision_number
FROM chain c JOIN organisations o ON o.code = c.successor_code
ORDER BY c.code, c.depth DESC
"""


async def successions(db: asyncpg.Pool | asyncpg.Connection, codes: list[str], today: date) -> dict[str, Succession]:
    """Those of `codes` merged or dissolved by `today`, each with whom it stands for now."""
    rows = await db.fetch(CHAIN, sorted(set(codes)), today)
    return {r["code"]: Succession(**r) for r in rows}


async def predecessors(db: asyncpg.Pool | asyncpg.Connection, code: str, today: date) -> list[str]:
    """Every code whose people and mail `code` has taken over by `today` (through chains too)."""
    rows = await db.fetch(
        "WITH RECURSIVE tree AS (SELECT predecessor_code FROM organisation_successions WHERE successor_code = $1"
        " AND effective_on <= $2 UNION SELECT s.predecessor_code FROM organisation_successions s"
        " JOIN tree t ON s.successor_code = t.predecessor_code WHERE s.effective_on <= $2)"
        " SELECT predecessor_code FROM tree ORDER BY 1", code, today)
    return [r["predecessor_code"] for r in rows]


async def preview(db: asyncpg.Pool | asyncpg.Connection, codes: list[str], today: date) -> dict[str, dict]:
    """Per code: its learners (distinct, ever), its open enrolments and waiting places (classes not cancelled and
    not over by `today`), its quotas in those classes, its contacts and the organisations under it."""
    rows = await db.fetch(
        """
        SELECT o.code, o.name, o.contacts,
          (SELECT count(DISTINCT learner_id) FROM (
              SELECT learner_id FROM enrolments WHERE organisation_code = o.code
              UNION SELECT learner_id FROM waiting_list WHERE organisation_code = o.code) AS l)::int AS learners,
          (SELECT count(*) FROM enrolments e JOIN classes c USING (class_id)
           WHERE e.organisation_code = o.code AND NOT c.cancelled AND c.ends_on >= $2)::int AS open_enrolments,
          (SELECT count(*) FROM waiting_list w JOIN classes c USING (class_id)
           WHERE w.organisation_code = o.code AND NOT c.cancelled AND c.ends_on >= $2)::int AS waiting,
          (SELECT count(*) FROM quotas q JOIN classes c USING (class_id)
           WHERE q.organisation_code = o.code AND NOT c.cancelled AND c.ends_on >= $2)::int AS open_quotas,
          coalesce((SELECT array_agg(code ORDER BY code) FROM organisations ch WHERE ch.parent_code = o.code),
                   '{}') AS children
        FROM organisations o WHERE o.code = ANY($1::text[]) ORDER BY o.code
        """, sorted(set(codes)), today)
    return {r["code"]: {**dict(r), "contacts": json.loads(r["contacts"])} for r in rows}
