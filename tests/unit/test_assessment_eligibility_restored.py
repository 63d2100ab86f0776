"""Eligibility given back: a learner told EligibilityLost who is back within the attendance threshold (an absence
corrected, a session cancelled) is told EligibilityRestored, once per crossing; the pure rules."""
from decimal import Decimal

import pytest
from assessment.domain import attendance as att
from assessment.domain.facts import ClassFacts
from ttct.contracts.eligibility_lost import EligibilityLost
from ttct.contracts.eligibility_restored import EligibilityRestored

from tests.unit.test_assessment_attendance import ORG, klass, learner, lost, record

pytestmark = pytest.mark.unit


def restored(events):
    return [e for e in events if isinstance(e, EligibilityRestored)]


def without_session(facts: ClassFacts, index: int) -> ClassFacts:
    """The facts once scheduling cancelled the class's session `index` (its plan unchanged)."""
    gone = facts.sessions[index]
    return ClassFacts(**{**facts.__dict__, "sessions": tuple(s for s in facts.sessions if s != gone),
                         "scheduled_total": len(facts.sessions) - 1,
                         "cancelled_sessions": facts.cancelled_sessions | {gone.session_id}})


def three_absences(facts, a):
    state = att.Attendance()
    for i in range(3):
        events, state = record(facts, [a], state, i, {a: "absent"})
    assert lost(events)
    return state


def test_an_absence_corrected_to_present_restores_eligibility_once():
    facts = klass(10)
    a = learner(facts)
    state = three_absences(facts, a)

    events, state = record(facts, [a], state, 2, {a: "present"})

    [event] = restored(events)
    assert (event.sessions_counted, event.absences, event.max_absence_ratio) == (10, 2, Decimal("0.2"))
    assert event.sending_organisation == ORG and event.personal == a.personal
    assert a.learner_id not in state.lost and att.standing(facts, a, state).eligible
    events, state = record(facts, [a], state, 3, {a: "present"})
    assert not restored(events), "EligibilityRestored is told once"


def test_an_absence_corrected_to_excused_restores_only_where_excused_absences_do_not_count():
    for counted, expected in ((False, 1), (True, 0)):
        facts = klass(10, excused_absences_count=counted)
        a = learner(facts)
        state = three_absences(facts, a)
        events, _ = record(facts, [a], state, 2, {a: "excused"})
        assert len(restored(events)) == expected


def test_a_learner_restored_loses_eligibility_again_at_a_new_absence_over_the_threshold():
    facts = klass(10)
    a = learner(facts)
    state = three_absences(facts, a)
    _, state = record(facts, [a], state, 2, {a: "present"})
    events, state = record(facts, [a], state, 4, {a: "absent"})
    [event] = lost(events)
    assert event.absences == 3 and a.learner_id in state.lost


def test_a_cancelled_session_the_learner_missed_restores_their_eligibility():
    facts = klass(10, planned_sessions=10)  # the programme's plan: a cancelled session is one to schedule again
    a, b = learner(facts), learner(facts, name="Nguyễn Văn An")
    state = three_absences(facts, a)
    _, state = record(facts, [a, b], state, 5, {a: "present", b: "present"})

    events = att.decide_recheck(without_session(facts, 1), {a.learner_id: a, b.learner_id: b}, state)

    assert [type(e) for e in events] == [EligibilityRestored] and events[0].learner_id == a.learner_id
    assert (events[0].sessions_counted, events[0].absences) == (10, 2)


def test_a_cancelled_session_may_also_cost_eligibility_when_absences_then_weigh_more():
    facts = klass(10, planned_sessions=0)  # the plan is the sessions scheduled: one fewer counts
    a = learner(facts)
    state = att.Attendance()
    for i in range(2):
        events, state = record(facts, [a], state, i, {a: "absent"})
    assert not lost(events)  # 2 of 10 = 20%: not MORE than the share
    events = att.decide_recheck(without_session(facts, 5), {a.learner_id: a}, state)
    assert [type(e) for e in events] == [EligibilityLost] and events[0].sessions_counted == 9


def test_no_recheck_once_the_results_are_final_or_the_class_is_cancelled():
    facts = klass(10)
    a = learner(facts)
    state = three_absences(facts, a)
    fewer = without_session(facts, 1)
    assert att.decide_recheck(fewer, {a.learner_id: a}, state, finalised=True) == []
    cancelled = ClassFacts(**{**fewer.__dict__, "cancelled": True})
    assert att.decide_recheck(cancelled, {a.learner_id: a}, state) == []
