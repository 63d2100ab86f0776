"""The dispatch decisions (quyết định cử đi học) the centre's enrolments cited, read from the roster views that
keep each seat's and waiting place's decision: one decision, the learners it sent, in any of the centre's classes."""
from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

_CITED = """
SELECT e.organisation_code, e.organisation_name, e.dispatch_decision, e.class_id, c.title AS class_title,
       e.learner_id, e.full_name, 'enrolled' AS status, e.seat_number
FROM enrolments e JOIN classes c USING (class_id)
WHERE e.centre = $1 AND e.dispatch_decision IS NOT NULL
UNION ALL
SELECT w.organisation_code, w.organisation_name, w.dispatch_decision, w.class_id, c.title, w.learner_id, w.full_name,
       'waitlisted', NULL
FROM waiting_list w JOIN classes c USING (class_id)
WHERE w.centre = $1 AND w.dispatch_decision IS NOT NULL
"""


async def cited(pool: asyncpg.Pool, centre: str, *, organisation: str | None = None,
                number: str | None = None) -> list[dict]:
    """Each decision the centre's enrolments cite (by organisation, date, number) with the learners it sent."""
    rows = await pool.fetch(
        f"SELECT * FROM ({_CITED}) d WHERE ($2::text IS NULL OR organisation_code = $2)"
        " AND ($3::text IS NULL OR dispatch_decision ->> 'number' = $3)"
        " ORDER BY organisation_code, dispatch_decision ->> 'signed_on', dispatch_decision ->> 'number',"
        " class_title, class_id, seat_number NULLS LAST, full_name", centre, organisation, number)
    decisions: dict[tuple[str, str], dict] = {}
    for r in rows:
        decision = json.loads(r["dispatch_decision"])
        key = (r["organisation_code"], json.dumps(decision, sort_keys=True, ensure_ascii=False))
        found = decisions.setdefault(key, {"organisation_code": r["organisation_code"],
                                           "organisation_name": r["organisation_name"], **decision, "learners": []})
        found["learners"].append({k: r[k] for k in ("class_id", "class_title", "learner_id", "full_name", "status",
                                                    "seat_number")})
    return list(decisions.values())


async def recorded(db: asyncpg.Pool | asyncpg.Connection,
                   cited_numbers: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """The decisions already cited under these (organisation code, number) pairs, as first cited."""
    if not cited_numbers:
        return {}
    rows = await db.fetch(
        "SELECT DISTINCT ON (organisation_code, dispatch_decision ->> 'number') organisation_code, dispatch_decision"
        " FROM (SELECT organisation_code, dispatch_decision, enrolled_at AS at FROM enrolments"
        "       UNION ALL SELECT organisation_code, dispatch_decision, waitlisted_at FROM waiting_list) d"
        " JOIN unnest($1::text[], $2::text[]) AS c(code, number)"
        " ON d.organisation_code = c.code AND d.dispatch_decision ->> 'number' = c.number"
        " ORDER BY organisation_code, dispatch_decision ->> 'number', at",
        [code for code, _ in cited_numbers], [number for _, number in cited_numbers])
    return {(r["organisation_code"], json.loads(r["dispatch_decision"])["number"]): json.loads(r["dispatch_decision"])
            for r in rows}
