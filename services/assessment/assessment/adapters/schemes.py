"""A centre's assessment schemes, one immutable row per version.

Schemes are reference data a centre defines, not facts other services need: no reader acts on a scheme, only on
results, which carry the version they were recorded under (ScoreRecorded.scheme_version) and their final score and
band (LearnerResultFinalised). So versions are rows that are inserted and never updated, not an event stream.
"""
from __future__ import annotations

import json

import asyncpg
from ttct.domain.errors import Rejected

from assessment.domain.facts import ClassFacts
from assessment.domain.schemes import DEFAULT_SCHEME, Scheme, SchemeRules, next_version, parse_ref

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS schemes (
        centre         text NOT NULL,
        code           text NOT NULL,
        version        integer NOT NULL,
        programme_code text,
        rules          jsonb NOT NULL,
        defined_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (centre, code, version)
    )
    """,
    """
    CREATE OR REPLACE FUNCTION assessment_schemes_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'scheme versions are immutable: define a new version'; END $$
    """,
    "DROP TRIGGER IF EXISTS schemes_immutable ON schemes",
    """
    CREATE TRIGGER schemes_immutable BEFORE UPDATE OR DELETE ON schemes
        FOR EACH ROW EXECUTE FUNCTION assessment_schemes_immutable()
    """,
]


def _scheme(row: asyncpg.Record) -> Scheme:
    return Scheme(code=row["code"], version=row["version"], rules=SchemeRules.model_validate_json(row["rules"]))


async def define(pool: asyncpg.Pool, centre: str, code: str, rules: SchemeRules) -> Scheme:
    """The scheme's next version; two definitions at once get consecutive versions (the primary key decides)."""
    for _ in range(5):
        latest = await pool.fetchval("SELECT coalesce(max(version), 0) FROM schemes WHERE centre = $1 AND code = $2",
                                     centre, code)
        scheme = next_version(code, latest, rules)
        try:
            await pool.execute("INSERT INTO schemes (centre, code, version, programme_code, rules)"
                               " VALUES ($1, $2, $3, $4, $5)", centre, code, scheme.version, rules.programme_code,
                               json.dumps(rules.model_dump(mode="json")))
            return scheme
        except asyncpg.UniqueViolationError:
            continue
    raise Rejected("the scheme is being changed by someone else; try again",
                   "Hình thức đánh giá đang được người khác sửa; hãy thử lại", code="concurrency-conflict")


async def versions(pool: asyncpg.Pool, centre: str, code: str, *, after: tuple[int] | None = None,
                   limit: int | None = None) -> list[Scheme]:
    rows = await pool.fetch("SELECT * FROM schemes WHERE centre = $1 AND code = $2"
                            " AND ($3::integer IS NULL OR version > $3) ORDER BY version LIMIT $4",
                            centre, code, (after or (None,))[0], limit)
    return [_scheme(r) for r in rows]


async def get(db: asyncpg.Pool | asyncpg.Connection, centre: str, ref: str) -> Scheme:
    code, version = parse_ref(ref)
    if code == DEFAULT_SCHEME.code and version in (None, 1):
        return DEFAULT_SCHEME
    if version is None:
        row = await db.fetchrow("SELECT * FROM schemes WHERE centre = $1 AND code = $2 ORDER BY version DESC LIMIT 1",
                                centre, code)
    else:
        row = await db.fetchrow("SELECT * FROM schemes WHERE centre = $1 AND code = $2 AND version = $3",
                                centre, code, version)
    if row is None:
        raise Rejected(f"assessment scheme {ref} is not defined at this centre",
                       f"Trung tâm chưa có hình thức đánh giá {ref}", code="scheme-unknown")
    return _scheme(row)


async def for_class(db: asyncpg.Pool | asyncpg.Connection, centre: str, facts: ClassFacts) -> Scheme:
    """The version the class's scores are recorded under: the one its first score pinned; else the class's named
    scheme (its latest version if none is named); else the latest scheme of the class's programme; else default."""
    if facts.pinned_scheme:
        return await get(db, centre, facts.pinned_scheme)
    if facts.assessment_scheme:
        return await get(db, centre, facts.assessment_scheme)
    if facts.programme_code:
        row = await db.fetchrow("SELECT * FROM schemes WHERE centre = $1 AND programme_code = $2"
                                " ORDER BY defined_at DESC, version DESC LIMIT 1", centre, facts.programme_code)
        if row is not None:
            return _scheme(row)
    return DEFAULT_SCHEME
