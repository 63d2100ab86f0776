"""Course evaluation's rules, pure: one form per learner at most, only the class's lecturers rated, never an
empty form, and nothing on a form that names the learner."""
from uuid import uuid4

import pytest
from assessment.domain.evaluation import EvaluateCourse, Evaluations, ReviewClass, decide_evaluation, decide_review, evolve
from assessment.domain.facts import ClassFacts
from pydantic import ValidationError
from ttct.contracts.course_evaluated import CourseEvaluated
from ttct.domain.errors import Invalid, Rejected

pytestmark = pytest.mark.unit
CLASS = ClassFacts(class_id=uuid4(), title="Lớp Sơ cấp", opened=True)
TAUGHT = uuid4()


def form(**answers) -> EvaluateCourse:
    return EvaluateCourse.model_validate(answers)


def test_a_form_per_learner_at_most_counted_by_the_stream():
    state = Evaluations()
    for _ in range(2):
        [event] = decide_evaluation(form(content=4), CLASS, 2, {TAUGHT}, state, uuid4())
        state = evolve(state, event)
    with pytest.raises(Rejected) as refused:
        decide_evaluation(form(content=4), CLASS, 2, {TAUGHT}, state, uuid4())
    assert refused.value.code == "evaluation-forms-exceed-learners"


@pytest.mark.parametrize("answers, code", [
    ({}, "evaluation-empty"),
    ({"lecturers": [{"lecturer_id": str(uuid4()), "rating": 5}]}, "lecturer-not-in-class"),
    ({"lecturers": [{"lecturer_id": str(TAUGHT), "rating": 5}, {"lecturer_id": str(TAUGHT), "rating": 4}]},
     "lecturer-rated-twice"),
])
def test_a_form_that_cannot_be_counted_is_refused(answers, code):
    with pytest.raises(Invalid) as refused:
        decide_evaluation(form(**answers), CLASS, 30, {TAUGHT}, Evaluations(), uuid4())
    assert refused.value.code == code


def test_ratings_run_from_one_to_five_and_comments_hold_no_control_characters():
    for bad in ({"content": 0}, {"organisation": 6}, {"comment": "tốt\x00"}, {"comment": "   "}):
        with pytest.raises(ValidationError):
            form(**bad)
    assert form(comment="  Tốt.\nCần thêm tài liệu. ").comment == "Tốt.\nCần thêm tài liệu."


def test_nothing_on_a_form_names_the_learner():
    assert not any("learner" in name or "name" in name for name in CourseEvaluated.model_fields)


def test_a_cancelled_class_takes_no_form_and_no_review():
    cancelled = ClassFacts(class_id=CLASS.class_id, opened=True, cancelled=True)
    with pytest.raises(Rejected):
        decide_evaluation(form(content=5), cancelled, 30, set(), Evaluations(), uuid4())
    with pytest.raises(Rejected):
        decide_review(ReviewClass(lessons="Rút kinh nghiệm"), cancelled)
