"""The result reports an organisation can download: the classes whose results were reported to it, and its
learners' latest results in one of them (a re-sit after the report shows in the download)."""
from __future__ import annotations

import json
from uuid import UUID

import asyncpg

from notification.domain.kinds import RESULT_REPORT

_REPORTED = """
SELECT DISTINCT ON (n.class_id) n.class_id, n.centre, coalesce(c.title, n.body::jsonb #>> '{data,class_title}')
       AS class_title, coalesce(c.programme_type, n.body::jsonb #>> '{data,programme_type}') AS programme_type,
       c.starts_on, c.ends_on, n.created_at AS reported_at,
       (SELECT count(*) FROM final_results r WHERE r.class_id = n.class_id
        AND r.organisation_code = ANY($1::text[]))::int AS learners,
       (SELECT count(*) FROM final_results r WHERE r.class_id = n.class_id AND r.organisation_code = ANY($1::text[])
        AND (r.result ->> 'passed')::boolean)::int AS passed
FROM notices n LEFT JOIN classes c USING (class_id)
WHERE n.organisation_code = ANY($1::text[]) AND n.notice_type = $2 AND n.recipient = 'organisation'
  AND ($3::uuid IS NULL OR n.class_id = $3)
ORDER BY n.class_id, n.created_at
"""


async def reported_classes(pool: asyncpg.Pool, organisations: list[str], class_id: UUID | None = None) -> list[dict]:
    """The classes whose result report the organisation (any of `organisations`: it and those it took over) was
    sent, oldest report first."""
    rows = [dict(r) for r in await pool.fetch(_REPORTED, organisations, RESULT_REPORT, class_id)]
    return sorted(rows, key=lambda r: (r["reported_at"], r["class_id"]))


async def lines(pool: asyncpg.Pool, organisations: list[str], class_id: UUID) -> list[dict]:
    rows = await pool.fetch("SELECT result FROM final_results WHERE organisation_code = ANY($1::text[])"
                            " AND class_id = $2", organisations, class_id)
    return [json.loads(r["result"]) for r in rows]
