"""A learner's marks in one class: component scores (pinned to one scheme version) and conduct. Pure decide and
evolve over the stream `assessment:result:<class>:<learner>`."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from ttct.contracts import DomainEvent, ScoreRecorded
from ttct.contracts.conduct_rated import ConductRated, ConductRating
from ttct.contracts.score_recorded import Score
from ttct.contracts.types import PlainText
from ttct.domain.errors import Invalid, Rejected

from assessment.domain.facts import LearnerInClass, not_in_class
from assessment.domain.schemes import DEFAULT_SCHEME, ComponentName, Scheme

__all__ = ["LearnerInClass", "RateConduct", "RecordScore", "RecordScores", "Result", "decide_conduct", "decide_record",
           "decide_scores", "evolve", "stream_id"]


class RecordScore(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    learner_id: UUID
    score: Score
    component: ComponentName = Field(default="final", description="a component of the class's scheme")


class LearnerScore(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    learner_id: UUID
    score: Score


class RecordScores(BaseModel):
    """One component's scores of many learners of a class (the class's grid): stored all together or not at all."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    component: ComponentName = Field(default="final", description="a component of the class's scheme")
    scores: tuple[LearnerScore, ...] = Field(min_length=1, max_length=5000)

    def commands(self) -> list[RecordScore]:
        return [RecordScore(learner_id=s.learner_id, score=s.score, component=self.component) for s in self.scores]


class RateConduct(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    learner_id: UUID
    rating: ConductRating
    note: PlainText(500, min_length=0) | None = None


@dataclass(frozen=True)
class Result:
    scores: dict[str, Decimal] = field(default_factory=dict)
    scheme_version: str | None = None
    conduct: str | None = None
    note: str | None = None

    @property
    def score(self) -> Decimal | None:
        """The single score of the default scheme."""
        return self.scores.get("final")


def stream_id(class_id: UUID, learner_id: UUID) -> str:
    return f"assessment:result:{class_id}:{learner_id}"


def results_final() -> Rejected:
    return Rejected("the class's results are final: record a re-sit instead",
                    "Kết quả của lớp đã được chốt: hãy ghi điểm thi lại", code="results-finalised")


def component_unknown(component: str, scheme: Scheme) -> Invalid:
    names = ", ".join(scheme.component_names())
    return Invalid(f"{component!r} is not a component of scheme {scheme.ref} ({names})",
                   f"{component!r} không phải là thành phần của hình thức đánh giá {scheme.ref} ({names})",
                   code="component-unknown")


def score_event(learner: LearnerInClass, component: str, score: Decimal, scheme: Scheme) -> ScoreRecorded:
    if component not in scheme.component_names():
        raise component_unknown(component, scheme)
    return ScoreRecorded(class_id=learner.class_id, class_title=learner.class_title, learner_id=learner.learner_id,
                         personal=learner.personal, sending_organisation=learner.sending_organisation,
                         score=score, grade_band=scheme.band(score), component=component, scheme_version=scheme.ref)


def decide_record(command: RecordScore, learner: LearnerInClass, result: Result, scheme: Scheme = DEFAULT_SCHEME,
                  *, finalised: bool = False) -> list[DomainEvent]:
    """`scheme`: the version this learner's scores are pinned to (the class's, at the first score)."""
    if finalised:
        raise results_final()
    event = score_event(learner, command.component, command.score, scheme)
    if result.scores.get(command.component) == command.score:
        return []  # the same score again (e.g. a retried request): nothing new to tell anyone
    return [event]


def decide_scores(command: RecordScores, class_id: UUID, learners: dict[UUID, LearnerInClass],
                  sittings: dict[UUID, tuple[Result, Scheme]], *,
                  finalised: bool = False) -> dict[UUID, list[DomainEvent]]:
    """Each listed learner's new events (none where the score is already so), or a refusal for the whole list:
    a learner twice, one not in the class, a component not in a learner's scheme, results already final.
    `learners`: the class's; `sittings`: each listed learner's result and the scheme their scores are pinned to."""
    ids = [s.learner_id for s in command.scores]
    if len(set(ids)) != len(ids):
        raise Invalid("a learner appears twice in the list", "Một học viên có hai lần trong danh sách",
                      code="duplicate-learner")
    if unknown := [i for i in ids if i not in learners]:
        raise not_in_class(class_id, unknown)
    return {c.learner_id: decide_record(c, learners[c.learner_id], *sittings[c.learner_id], finalised=finalised)
            for c in command.commands()}


def decide_conduct(command: RateConduct, learner: LearnerInClass, result: Result, *,
                   finalised: bool = False) -> list[DomainEvent]:
    if finalised:
        raise Rejected("the class's results are final: conduct can no longer change",
                       "Kết quả của lớp đã được chốt: không thể sửa xếp loại rèn luyện", code="results-finalised")
    if (result.conduct, result.note) == (command.rating, command.note):
        return []
    return [ConductRated(class_id=learner.class_id, learner_id=learner.learner_id, rating=command.rating,
                         note=command.note)]


def evolve(result: Result, event: DomainEvent) -> Result:
    match event:
        case ScoreRecorded(score=score, component=component, scheme_version=version):
            return replace(result, scores={**result.scores, component: score}, scheme_version=version)
        case ConductRated(rating=rating, note=note):
            return replace(result, conduct=rating, note=note)
    return result
