"""Enrolment's command handlers."""
from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import asyncpg

from ttct.aggregates import Aggregates
from ttct.contracts import EventMetadata, LearnerEnrolled
from ttct.errors import Rejected

from enrolment.adapters import views
from enrolment.domain.roster import EnrolLearner, Roster, decide_enrol, identity_key, stream_id


async def enrol_learner(
    pool: asyncpg.Pool,
    rosters: Aggregates[Roster],
    centre: str,
    class_id: UUID,
    command: EnrolLearner,
    metadata: EventMetadata,
    new_id: Callable[[], UUID],
) -> LearnerEnrolled:
    facts = await views.class_facts(pool, centre, class_id)
    if facts is None:
        raise Rejected(
            f"class {class_id} is not open for enrolment at this centre (unknown to enrolment)",
            f"Lớp {class_id} chưa mở đăng ký tại trung tâm này",
            code="class-unknown",
        )
    learner_id = await views.learner_id_for(pool, identity_key(command), new_id())
    [envelope] = await rosters.execute(
        stream_id(class_id), lambda roster: decide_enrol(command, learner_id, facts, roster), metadata,
        project=views.project,
    )
    return LearnerEnrolled.model_validate(envelope.payload)
