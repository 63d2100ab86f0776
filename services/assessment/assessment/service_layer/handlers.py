"""Assessment's command handlers."""
from __future__ import annotations

from uuid import UUID

import asyncpg

from ttct.aggregates import Aggregates
from ttct.contracts import EventMetadata
from ttct.errors import NotFound

from assessment.adapters import views
from assessment.domain.results import RecordScore, Result, decide_record, stream_id


async def record_score(pool: asyncpg.Pool, results: Aggregates[Result], centre: str, class_id: UUID,
                       command: RecordScore, metadata: EventMetadata) -> None:
    learner = await views.learner_in_class(pool, centre, class_id, command.learner_id)
    if learner is None:
        raise NotFound(
            f"learner {command.learner_id} is not enrolled in class {class_id} at this centre",
            f"Học viên {command.learner_id} không có tên trong lớp {class_id} của trung tâm này",
            code="learner-not-in-class",
        )
    await results.execute(stream_id(class_id, command.learner_id),
                          lambda result: decide_record(command, learner, result), metadata, project=views.project)
