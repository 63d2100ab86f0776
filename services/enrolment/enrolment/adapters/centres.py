"""The province's register of centres as enrolment reads it: the shared tables of ttct.centres (names over time,
successions), written with the centre's own appends (`project`), and what a merge would move (its preview)."""
from __future__ import annotations

import json
from datetime import date

import asyncpg
from ttct import centres as register
from ttct.contracts import Envelope, read_event

from enrolment.domain.centres import CentreFacts


async def project(conn: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        await register.project(conn, envelope, read_event(envelope))


_LATEST = """
SELECT DISTINCT ON (n.code) n.code, n.name, n.address, n.parent_body, s.successor_code, s.effective_on
FROM centre_names n LEFT JOIN centre_successions s ON s.predecessor_code = n.code
WHERE $1::text[] IS NULL OR n.code = ANY($1::text[])
ORDER BY n.code, n.valid_from DESC
"""


async def facts(db: asyncpg.Pool | asyncpg.Connection, codes: list[str]) -> dict[str, CentreFacts]:
    """The codes' latest registered names (a rename dated ahead included) and their successions."""
    rows = await db.fetch(_LATEST, sorted(set(codes)))
    return {r["code"]: CentreFacts(code=r["code"], name=r["name"], successor_code=r["successor_code"],
                                   effective_on=r["effective_on"]) for r in rows}


async def listing(db: asyncpg.Pool | asyncpg.Connection, today: date, code: str | None = None) -> list[dict]:
    """Each registered centre (or the one `code`): its name today and its earlier and coming names, address,
    parent body, and whom it is part of (when merged, today or ahead)."""
    rows = await db.fetch(
        """
        SELECT c.code, n.name, n.address, n.parent_body,
               (SELECT coalesce(jsonb_agg(jsonb_build_object('name', h.name, 'valid_from', h.valid_from)
                                          ORDER BY h.valid_from), '[]') FROM centre_names h WHERE h.code = c.code)
                   AS names,
               s.successor_code, s.kind AS merge_kind, s.effective_on AS merged_on,
               (SELECT coalesce(array_agg(p.predecessor_code ORDER BY p.predecessor_code), '{}')
                FROM centre_successions p WHERE p.successor_code = c.code) AS predecessor_codes
        FROM (SELECT DISTINCT code FROM centre_names WHERE $2::text IS NULL OR code = $2) AS c
        CROSS JOIN LATERAL (SELECT name, address, parent_body FROM centre_names x WHERE x.code = c.code
                            ORDER BY x.valid_from <= $1 DESC,
                                     CASE WHEN x.valid_from <= $1 THEN x.valid_from END DESC NULLS LAST,
                                     x.valid_from LIMIT 1) AS n
        LEFT JOIN centre_successions s ON s.predecessor_code = c.code
        ORDER BY c.code
        """, today, code)
    return [{**dict(r), "names": json.loads(r["names"])} for r in rows]


async def preview(db: asyncpg.Pool | asyncpg.Connection, codes: list[str], today: date) -> dict[str, dict]:
    """Per centre: its classes (not cancelled), those still open by `today`, its learners (distinct, enrolled or
    waiting, ever) and those in its open classes."""
    rows = await db.fetch(
        """
        SELECT c.code,
          (SELECT count(*) FROM classes k WHERE k.centre = c.code AND NOT k.cancelled)::int AS classes,
          (SELECT count(*) FROM classes k WHERE k.centre = c.code AND NOT k.cancelled AND k.ends_on >= $2)::int
              AS open_classes,
          (SELECT count(DISTINCT learner_id) FROM (
              SELECT learner_id FROM enrolments WHERE centre = c.code
              UNION SELECT learner_id FROM waiting_list WHERE centre = c.code) AS l)::int AS learners,
          (SELECT count(*) FROM enrolments e JOIN classes k USING (class_id)
           WHERE e.centre = c.code AND NOT k.cancelled AND k.ends_on >= $2)::int AS open_enrolments
        FROM unnest($1::text[]) AS c(code)
        """, sorted(set(codes)), today)
    return {r["code"]: dict(r) for r in rows}
