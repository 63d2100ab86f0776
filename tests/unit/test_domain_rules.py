"""The pure decide/evolve functions of each service: no servers, no clock."""
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from assessment.domain import results
from assessment.domain.grading import grade_band
from enrolment.domain import roster as rosters
from scheduling.domain import classes
from ttct.contracts import ClassOpened, LearnerEnrolled, ScoreRecorded
from ttct.contracts.learner_waitlisted import LearnerWaitlisted
from ttct.contracts.types import GradeBand, SendingOrganisation
from ttct.domain.errors import Invalid, Rejected
from ttct.privacy.personal import legacy_sealed, seal

pytestmark = pytest.mark.unit
ORG = SendingOrganisation(code="xa-hoa-loc", name="Đảng ủy xã Hoa Lộc")


def open_class(**kw):
    fields = dict(programme_type="so_cap_llct", title="Lớp 1", capacity=2, starts_on=date(2026, 12, 1),
                  ends_on=date(2026, 12, 5), venue="Hội trường")
    return classes.OpenClass(**{**fields, **kw})


def test_opening_a_class_once_gives_class_opened_and_twice_is_refused():
    class_id = uuid4()
    [event] = classes.decide_open(open_class(), class_id, classes.ClassState())
    assert isinstance(event, ClassOpened) and event.class_id == class_id
    state = classes.evolve(classes.ClassState(), event)
    with pytest.raises(Rejected):
        classes.decide_open(open_class(), class_id, state)


def test_a_class_cannot_end_before_it_starts():
    with pytest.raises(Invalid):
        classes.decide_open(open_class(ends_on=date(2026, 11, 1)), uuid4(), classes.ClassState())


def enrol(name="Nguyễn Văn An", **kw):
    return rosters.EnrolLearner(full_name=name, date_of_birth=date(1990, 1, 2),
                                sending_organisation={"code": ORG.code}, **kw)


def sealed(learner):
    """The learner's name and birth date as the service layer seals them (a test key)."""
    return seal(bytes(32), learner, rosters.personal_data(enrol()), bytes(12))


def test_enrolment_fills_seats_in_order_then_puts_learners_on_the_waiting_list():
    facts = rosters.ClassFacts(class_id=uuid4(), title="Lớp 1", capacity=2)
    state = rosters.Roster()
    for seat in (1, 2):
        [event] = rosters.decide_enrol(enrol(), (lid := uuid4()), sealed(lid), facts, state, organisation=ORG)
        assert isinstance(event, LearnerEnrolled) and event.seat_number == seat
        state = rosters.evolve(state, event)
    [waiting] = rosters.decide_enrol(enrol(), (lid := uuid4()), sealed(lid), facts, state, organisation=ORG)
    assert isinstance(waiting, LearnerWaitlisted) and waiting.position == 1


def test_the_same_learner_cannot_take_two_seats():
    facts = rosters.ClassFacts(class_id=uuid4(), title="Lớp 1", capacity=10)
    learner = uuid4()
    [first] = rosters.decide_enrol(enrol(), learner, sealed(learner), facts, rosters.Roster(), organisation=ORG)
    state = rosters.evolve(rosters.Roster(), first)
    with pytest.raises(Rejected) as refused:
        rosters.decide_enrol(enrol(), learner, sealed(learner), facts, state, organisation=ORG)
    assert refused.value.code == "already-enrolled"


def test_a_person_is_recognised_by_national_id_else_by_name_birth_date_and_organisation():
    assert rosters.identity_key(enrol(national_id="038090000001")) == rosters.identity_key(
        enrol(name="Nguyen Van An", national_id="038090000001"))
    assert rosters.identity_key(enrol()) == rosters.identity_key(enrol(name="nguyễn văn an"))
    assert rosters.identity_key(enrol()) != rosters.identity_key(enrol(name="Nguyễn Văn Anh"))


@pytest.mark.parametrize(("score", "band"), [
    ("10.0", GradeBand.xuat_sac), ("9.0", GradeBand.xuat_sac), ("8.9", GradeBand.gioi), ("8.0", GradeBand.gioi),
    ("7.0", GradeBand.kha), ("6.9", GradeBand.trung_binh), ("5.0", GradeBand.trung_binh),
    ("4.9", GradeBand.khong_dat), ("0.0", GradeBand.khong_dat),
])
def test_default_grade_bands(score, band):
    assert grade_band(Decimal(score)) == band


def test_recording_a_score_stamps_its_band_and_the_same_score_again_changes_nothing():
    learner_id = uuid4()
    learner = results.LearnerInClass(class_id=uuid4(), class_title="Lớp 1", learner_id=learner_id,
                                     full_name="Lê Thị Bình", personal=legacy_sealed(learner_id, "Lê Thị Bình"),
                                     sending_organisation=ORG)
    command = results.RecordScore(learner_id=learner.learner_id, score=Decimal("8.5"))
    [event] = results.decide_record(command, learner, results.Result())
    assert isinstance(event, ScoreRecorded) and event.grade_band == GradeBand.gioi
    assert event.sending_organisation == ORG
    state = results.evolve(results.Result(), event)
    assert results.decide_record(command, learner, state) == []
    corrected = results.RecordScore(learner_id=learner.learner_id, score=Decimal("9.0"))
    assert results.decide_record(corrected, learner, state)[0].grade_band == GradeBand.xuat_sac
