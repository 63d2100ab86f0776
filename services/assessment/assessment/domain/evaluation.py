"""Course evaluation: the learners' anonymous survey forms of a class, and the centre's lessons-learned review
(rút kinh nghiệm). Pure decide and evolve over the stream `assessment:evaluation:<class>`; ids are injected."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from ttct.contracts import DomainEvent
from ttct.contracts.class_reviewed import ClassReviewed
from ttct.contracts.course_evaluated import CourseEvaluated, LecturerRating, Rating, Remark
from ttct.domain.errors import Invalid, Rejected

from assessment.domain.facts import ClassFacts


class EvaluateCourse(BaseModel):
    """One learner's form, as the centre enters it: any question may be left unanswered, but not all of them."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    content: Rating | None = None
    organisation: Rating | None = None
    lecturers: tuple[LecturerRating, ...] = ()
    comment: Remark | None = None


class ReviewClass(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    strengths: Remark | None = None
    shortcomings: Remark | None = None
    lessons: Remark


@dataclass(frozen=True)
class Evaluations:
    forms: int = 0
    reviewed: bool = False


def stream_id(class_id: UUID) -> str:
    return f"assessment:evaluation:{class_id}"


def decide_evaluation(command: EvaluateCourse, facts: ClassFacts, learners: int, lecturers: Collection[UUID],
                      state: Evaluations, evaluation_id: UUID) -> list[DomainEvent]:
    """`learners`: how many learners the class has had (a form each at most); `lecturers`: who taught its
    sessions."""
    facts.usable()
    if command.content is None and command.organisation is None and not command.lecturers and not command.comment:
        raise Invalid("the form answers no question: give at least one rating or a comment",
                      "Phiếu không có câu trả lời nào: hãy nhập ít nhất một mức đánh giá hoặc ý kiến",
                      code="evaluation-empty")
    rated = [r.lecturer_id for r in command.lecturers]
    if len(set(rated)) != len(rated):
        raise Invalid("a lecturer is rated twice on one form", "Một giảng viên được đánh giá hai lần trên một phiếu",
                      code="lecturer-rated-twice")
    strangers = [str(i) for i in rated if i not in lecturers]
    if strangers:
        raise Invalid(f"these lecturers taught no session of class {facts.class_id}: {', '.join(strangers)}",
                      f"Các giảng viên này không dạy buổi nào của lớp {facts.class_id}: {', '.join(strangers)}",
                      code="lecturer-not-in-class", lecturers=strangers)
    if state.forms >= learners:
        raise Rejected(f"class {facts.class_id} has {learners} learners and {state.forms} forms already: one form "
                       "per learner", f"Lớp {facts.class_id} có {learners} học viên và đã nhập {state.forms} phiếu: "
                       "mỗi học viên một phiếu", code="evaluation-forms-exceed-learners")
    return [CourseEvaluated(class_id=facts.class_id, evaluation_id=evaluation_id, content=command.content,
                            organisation=command.organisation, lecturers=command.lecturers, comment=command.comment)]


class IssueEvaluationCodes(BaseModel):
    """Codes for the learners to fill in the class's form themselves, one each, handed out at random."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int | None = Field(default=None, ge=1, le=5000, description="how many (default: one for every learner "
                              "who has no form and no code yet)")
    replace_unused: bool = Field(default=False, description="void the codes issued earlier and not used (slips "
                                 "lost) before issuing")


def codes_to_issue(command: IssueEvaluationCodes, facts: ClassFacts, learners: int, forms: int, unused: int) -> int:
    """How many codes to issue: never more than the class's learners who have neither a form nor a code, so codes
    cannot add forms beyond one per learner."""
    facts.usable()
    open_places = learners - forms - (0 if command.replace_unused else unused)
    count = open_places if command.count is None else command.count
    if open_places <= 0 or count > open_places:
        raise Rejected(f"class {facts.class_id} has {learners} learners, {forms} forms and {unused} unused codes: "
                       f"{max(open_places, 0)} more codes at most", f"Lớp {facts.class_id} có {learners} học viên, "
                       f"{forms} phiếu và {unused} mã chưa dùng: chỉ cấp thêm được tối đa {max(open_places, 0)} mã",
                       code="evaluation-codes-exceed-learners", available=max(open_places, 0))
    return count


def decide_review(command: ReviewClass, facts: ClassFacts) -> list[DomainEvent]:
    facts.usable()
    return [ClassReviewed(class_id=facts.class_id, strengths=command.strengths, shortcomings=command.shortcomings,
                          lessons=command.lessons)]


def evolve(state: Evaluations, event: DomainEvent) -> Evaluations:
    match event:
        case CourseEvaluated():
            return replace(state, forms=state.forms + 1)
        case ClassReviewed():
            return replace(state, reviewed=True)
    return state
