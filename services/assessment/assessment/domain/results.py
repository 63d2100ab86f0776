"""A learner's result in one class: pure decide and evolve."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from ttct.contracts import DomainEvent, ScoreRecorded
from ttct.contracts.score_recorded import Score
from ttct.contracts.types import SendingOrganisation

from assessment.domain.grading import grade_band


class RecordScore(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    learner_id: UUID
    score: Score


@dataclass(frozen=True)
class LearnerInClass:
    """What assessment knows of an enrolled learner, from enrolment's LearnerEnrolled."""

    class_id: UUID
    class_title: str
    learner_id: UUID
    full_name: str
    sending_organisation: SendingOrganisation


@dataclass(frozen=True)
class Result:
    score: Decimal | None = None


def stream_id(class_id: UUID, learner_id: UUID) -> str:
    return f"assessment:result:{class_id}:{learner_id}"


def decide_record(command: RecordScore, learner: LearnerInClass, result: Result) -> list[DomainEvent]:
    if result.score == command.score:
        return []  # the same score again (e.g. a retried request): nothing new to tell anyone
    return [
        ScoreRecorded(
            class_id=learner.class_id,
            class_title=learner.class_title,
            learner_id=learner.learner_id,
            full_name=learner.full_name,
            sending_organisation=learner.sending_organisation,
            score=command.score,
            grade_band=grade_band(command.score),
        )
    ]


def evolve(result: Result, event: DomainEvent) -> Result:
    match event:
        case ScoreRecorded(score=score):
            return Result(score=score)
    return result
