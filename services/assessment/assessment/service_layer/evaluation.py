"""Course evaluation's command handlers: read the class's facts, decide (pure), append with the views."""
from __future__ import annotations

from uuid import UUID

from ttct.contracts import EventMetadata
from ttct.eventsourcing.aggregates import Aggregates
from ttct.operations.runtime import Runtime

from assessment.adapters import evaluations
from assessment.adapters import facts as fx
from assessment.domain import evaluation as ev
from assessment.domain.facts import ClassFacts, class_unknown


def aggregates(rt: Runtime) -> Aggregates[ev.Evaluations]:
    return Aggregates(rt.store, ev.Evaluations, ev.evolve, clock=rt.clock, new_id=rt.new_id)


async def known_class(rt: Runtime, centre: str, class_id: UUID) -> ClassFacts:
    found = await fx.class_facts(rt.pool, centre, class_id)
    if found is None:
        raise class_unknown(class_id)
    return found


async def evaluate(rt: Runtime, forms: Aggregates[ev.Evaluations], centre: str, class_id: UUID,
                   command: ev.EvaluateCourse, metadata: EventMetadata) -> UUID:
    facts = await known_class(rt, centre, class_id)
    learners = await fx.learners_ever(rt.pool, centre, class_id)
    lecturers = await fx.lecturers(rt.pool, centre, class_id)
    evaluation_id = rt.new_id()
    await forms.execute(ev.stream_id(class_id),
                        lambda s: ev.decide_evaluation(command, facts, learners, lecturers, s, evaluation_id),
                        metadata, project=evaluations.project)
    return evaluation_id


async def review(rt: Runtime, forms: Aggregates[ev.Evaluations], centre: str, class_id: UUID,
                 command: ev.ReviewClass, metadata: EventMetadata) -> None:
    facts = await known_class(rt, centre, class_id)
    await forms.execute(ev.stream_id(class_id), lambda _: ev.decide_review(command, facts), metadata,
                        project=evaluations.project)
