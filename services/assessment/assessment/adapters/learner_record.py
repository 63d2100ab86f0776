"""A learner's record across the province: every class they sat at any centre, with its result, conduct and
certificate, from the views assessment keeps."""
from __future__ import annotations

from uuid import UUID

import asyncpg
from ttct.contracts.types import LearnerProfile, SealedPersonalData
from ttct.privacy import tenancy
from ttct.privacy.personal import KeyRing

_RECORD = """
SELECT l.centre, l.class_id, l.class_title, f.programme_type, f.starts_on, f.ends_on, f.cancelled,
       l.full_name, l.organisation_code, l.organisation_name, l.withdrawn,
       r.eligible, r.final_score, r.grade_band, r.passed, r.conduct, r.sessions_attended, r.sessions_counted,
       r.certificate_number, c.issued_on AS certificate_issued_on, c.revoked AS certificate_revoked
FROM class_learners l
JOIN class_facts f USING (class_id)
LEFT JOIN final_results r ON r.class_id = l.class_id AND r.learner_id = l.learner_id
LEFT JOIN certificates c ON c.certificate_number = r.certificate_number
WHERE l.learner_id = $1
ORDER BY f.starts_on NULLS LAST, l.class_id
"""


async def visible(pool: asyncpg.Pool, learner_id: UUID) -> bool:
    """Whether the caller's rows (row-level security: their centres) hold a class of the learner."""
    return bool(await pool.fetchval("SELECT EXISTS (SELECT 1 FROM class_learners WHERE learner_id = $1)",
                                    learner_id))


async def record(pool: asyncpg.Pool, learner_id: UUID) -> list[dict]:
    """Every class of the learner at every centre: a record spans the province by design (the route lets only
    those who see one of its classes read it)."""
    with tenancy.province_wide():
        return [dict(r) for r in await pool.fetch(_RECORD, learner_id)]


async def profile(pool: asyncpg.Pool, ring: KeyRing, learner_id: UUID) -> LearnerProfile | None:
    """The learner's profile as their latest enrolment carried it, opened with their key now: None when none was
    given, or when the learner was erased (the key is gone)."""
    with tenancy.province_wide():
        sealed = await pool.fetchval("SELECT profile FROM class_learners WHERE learner_id = $1 AND profile IS NOT NULL"
                                     " ORDER BY changed_at DESC NULLS LAST LIMIT 1", learner_id)
    if sealed is None:
        return None
    return await ring.open(SealedPersonalData.model_validate_json(sealed), LearnerProfile)
