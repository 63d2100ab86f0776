"""Attendance and eligibility to sit the final test: the pure rules."""
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from assessment.domain import attendance as att
from assessment.domain.facts import ClassFacts, LearnerInClass, SessionFact
from ttct.contracts.attendance_recorded import AttendanceRecorded
from ttct.contracts.eligibility_lost import EligibilityLost
from ttct.contracts.types import SendingOrganisation
from ttct.domain.errors import Invalid, NotFound, Rejected
from ttct.privacy.personal import legacy_sealed

pytestmark = pytest.mark.unit
ORG = SendingOrganisation(code="xa-hoa-loc", name="Đảng ủy xã Hoa Lộc")
START = date(2026, 12, 1)


def klass(n=10, **kw) -> ClassFacts:
    sessions = tuple(SessionFact(uuid4(), START + timedelta(days=i)) for i in range(n))
    return ClassFacts(class_id=uuid4(), title="Lớp Sơ cấp LLCT", opened=True, sessions=sessions,
                      scheduled_total=n, **kw)


def learner(facts, enrolled_on=START, name="Lê Thị Bình") -> LearnerInClass:
    learner_id = uuid4()
    return LearnerInClass(class_id=facts.class_id, class_title=facts.title, learner_id=learner_id, full_name=name,
                          personal=legacy_sealed(learner_id, name), sending_organisation=ORG, enrolled_on=enrolled_on)


def record(facts, learners, state, session_index, statuses):
    """Record one session's list; statuses: {learner: status}."""
    command = att.RecordAttendance(marks=[att.Mark(learner_id=l.learner_id, status=s) for l, s in statuses.items()])
    events = att.decide_record(facts.sessions[session_index].session_id, command, facts,
                               {l.learner_id: l for l in learners}, state)
    for e in events:
        state = att.evolve(state, e)
    return events, state


def lost(events):
    return [e for e in events if isinstance(e, EligibilityLost)]


def test_eligibility_is_lost_at_the_absence_that_makes_the_threshold_unreachable_and_only_once():
    facts = klass(10)  # 20% of 10 sessions: 2 absences may be made up for, the 3rd may not
    a = learner(facts)
    state = att.Attendance()
    for i in range(2):
        events, state = record(facts, [a], state, i, {a: "absent"})
        assert not lost(events) and att.standing(facts, a, state).eligible
    events, state = record(facts, [a], state, 2, {a: "absent"})
    [event] = lost(events)
    assert (event.sessions_counted, event.absences, event.max_absence_ratio) == (10, 3, Decimal("0.2"))
    assert event.sending_organisation == ORG and event.personal == a.personal  # the sealed name, as received
    events, state = record(facts, [a], state, 3, {a: "absent"})
    assert not lost(events), "EligibilityLost is told once"
    assert not att.standing(facts, a, state).eligible


def test_sessions_before_the_enrolment_date_never_count_as_absences():
    facts = klass(10)
    late = learner(facts, enrolled_on=START + timedelta(days=5))  # sessions 5..9 count: 5 sessions
    state = att.Attendance()
    for i in range(5):  # marked absent before they were enrolled: ignored
        _, state = record(facts, [late], state, i, {late: "absent"})
    s = att.standing(facts, late, state)
    assert (s.sessions_counted, s.absences, s.eligible) == (5, 0, True)
    events, state = record(facts, [late], state, 5, {late: "absent"})
    assert not lost(events)  # 1 of 5 = 20%: not MORE than the share
    events, state = record(facts, [late], state, 6, {late: "absent"})
    [event] = lost(events)
    assert (event.sessions_counted, event.absences) == (5, 2)


def test_a_session_on_the_enrolment_day_counts():
    facts = klass(5)
    a = learner(facts, enrolled_on=facts.sessions[2].session_date)
    assert att.standing(facts, a, att.Attendance()).sessions_counted == 3


def test_sessions_not_scheduled_yet_count_for_everyone():
    facts = klass(3, planned_sessions=10)
    facts = ClassFacts(**{**facts.__dict__, "scheduled_total": None})  # only the opening plan is known
    a = learner(facts, enrolled_on=START + timedelta(days=1))
    assert facts.planned_total == 10
    assert att.standing(facts, a, att.Attendance()).sessions_counted == 2 + 7


@pytest.mark.parametrize(("excused_count", "lost_after"), [(False, None), (True, 3)])
def test_excused_absences_count_only_where_the_programme_says_so(excused_count, lost_after):
    facts = klass(10, excused_absences_count=excused_count)
    a = learner(facts)
    state, lost_at = att.Attendance(), None
    for i in range(5):
        events, state = record(facts, [a], state, i, {a: "excused"})
        if lost(events) and lost_at is None:
            lost_at = i + 1
    assert lost_at == lost_after
    s = att.standing(facts, a, state)
    assert (s.excused, s.absences) == (5, 5 if excused_count else 0)


def test_no_one_loses_eligibility_while_the_number_of_sessions_is_unknown():
    facts = klass(2)
    facts = ClassFacts(**{**facts.__dict__, "scheduled_total": None, "planned_sessions": 0})
    a = learner(facts)
    events, _ = record(facts, [a], att.Attendance(), 0, {a: "absent"})
    assert not lost(events)


def test_a_custom_threshold_is_applied():
    facts = klass(10, max_absence_ratio=Decimal("0.1"))
    a = learner(facts)
    events, state = record(facts, [a], att.Attendance(), 0, {a: "absent"})
    assert not lost(events)
    events, state = record(facts, [a], state, 1, {a: "absent"})
    assert lost(events)


def test_a_session_list_records_one_event_per_learner_and_the_same_list_again_nothing():
    facts = klass(10)
    a, b = learner(facts), learner(facts, name="Trần Văn An")
    events, state = record(facts, [a, b], att.Attendance(), 0, {a: "present", b: "excused"})
    assert [(e.learner_id, e.status) for e in events] == [(a.learner_id, "present"), (b.learner_id, "excused")]
    assert all(isinstance(e, AttendanceRecorded) and e.session_date == START for e in events)
    again, _ = record(facts, [a, b], state, 0, {a: "present", b: "excused"})
    assert again == []
    corrected, state = record(facts, [a, b], state, 0, {a: "absent", b: "excused"})
    assert [(e.learner_id, e.status) for e in corrected] == [(a.learner_id, "absent")]
    assert att.standing(facts, a, state).absent == 1


def test_refusals_unknown_or_cancelled_session_unknown_learner_duplicates_cancelled_class():
    facts = klass(3)
    a = learner(facts)
    command = att.RecordAttendance(marks=[att.Mark(learner_id=a.learner_id, status="present")])
    with pytest.raises(Rejected) as e:
        att.decide_record(uuid4(), command, facts, {a.learner_id: a}, att.Attendance())
    assert e.value.code == "session-unknown"
    gone = uuid4()
    with pytest.raises(Rejected) as e:
        att.decide_record(gone, command, ClassFacts(**{**facts.__dict__, "cancelled_sessions": frozenset({gone})}),
                          {a.learner_id: a}, att.Attendance())
    assert e.value.code == "session-cancelled"
    with pytest.raises(NotFound) as e:
        att.decide_record(facts.sessions[0].session_id, command, facts, {}, att.Attendance())
    assert e.value.code == "learner-not-in-class" and e.value.extra["learners"] == [str(a.learner_id)]
    twice = att.RecordAttendance(marks=[att.Mark(learner_id=a.learner_id, status="present")] * 2)
    with pytest.raises(Invalid):
        att.decide_record(facts.sessions[0].session_id, twice, facts, {a.learner_id: a}, att.Attendance())
    with pytest.raises(Rejected) as e:
        att.decide_record(facts.sessions[0].session_id, command, ClassFacts(**{**facts.__dict__, "cancelled": True}),
                          {a.learner_id: a}, att.Attendance())
    assert e.value.code == "class-cancelled"
    with pytest.raises(Rejected) as e:
        att.decide_record(facts.sessions[0].session_id, command, facts, {a.learner_id: a}, att.Attendance(),
                          finalised=True)
    assert e.value.code == "results-finalised"


def test_a_cancelled_session_no_longer_counts():
    facts = klass(10)
    a = learner(facts)
    _, state = record(facts, [a], att.Attendance(), 0, {a: "absent"})
    fewer = ClassFacts(**{**facts.__dict__, "sessions": facts.sessions[1:], "scheduled_total": 9,
                          "cancelled_sessions": frozenset({facts.sessions[0].session_id})})
    s = att.standing(fewer, a, state)
    assert (s.sessions_counted, s.absences) == (9, 0)


@pytest.mark.parametrize("plan_said", [30, 3], ids=["v2: the plan", "v1: only the sessions scheduled"])
def test_a_class_scheduled_a_week_at_a_time_counts_absences_over_its_whole_plan(plan_said):
    facts = klass(3, planned_sessions=30, scheduled_plan=plan_said)  # 3 of a 30-session programme scheduled
    a = learner(facts)
    events, state = record(facts, [a], att.Attendance(), 0, {a: "absent"})
    assert not lost(events)  # 1 of 30, not 1 of 3
    s = att.standing(facts, a, state)
    assert (s.sessions_counted, s.absences, s.eligible) == (30, 1, True)


def test_more_sessions_scheduled_than_planned_all_count():
    facts = klass(12, planned_sessions=10, scheduled_plan=12)
    assert facts.planned_total == 12
