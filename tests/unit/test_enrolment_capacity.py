"""A class's capacity on its roster, pure: the refuse-when-full policy, and the centre changing the seats
(never below those taken; more seats promote from the waiting list in its order, within quotas)."""
from __future__ import annotations

from uuid import uuid4

import pytest
from enrolment.domain import roster as r
from ttct.contracts import ClassOpened, LearnerEnrolled
from ttct.contracts.class_capacity_changed import ClassCapacityChanged
from ttct.contracts.learner_waitlisted import LearnerWaitlisted
from ttct.domain.errors import Rejected

from tests.unit.test_enrolment_roster import admit, apply, member, quota

pytestmark = pytest.mark.unit


def facts(capacity=2, when_full="waiting-list", cancelled=False):
    return r.ClassFacts(class_id=uuid4(), title="Lớp Sơ cấp LLCT", capacity=capacity, cancelled=cancelled,
                        when_full=when_full)


def change(f, roster, capacity):
    events = r.decide_change_capacity(r.ChangeCapacity(capacity=capacity), f, roster)
    return apply(roster, events), events


def test_a_class_that_refuses_when_full_refuses_the_learner_who_finds_no_seat_naming_class_and_capacity():
    f = facts(capacity=2, when_full="refuse")
    roster = admit(f, r.Roster(), member(), member())
    with pytest.raises(Rejected) as refused:
        r.decide_admit(member(), f, roster)
    assert refused.value.status == 409 and refused.value.code == "class-full"
    assert refused.value.extra == {"capacity": 2}
    assert "Lớp Sơ cấp LLCT" in refused.value.detail and "2 seats" in refused.value.detail
    assert "Lớp Sơ cấp LLCT đã đủ 2 chỗ" in refused.value.detail_vi


def test_a_class_that_refuses_when_full_still_lets_a_learner_over_their_organisation_s_quota_wait():
    f = facts(capacity=3, when_full="refuse")
    roster, _ = quota(f, r.Roster(), "xa-a", 1)
    roster = admit(f, roster, member("xa-a"))
    [event] = r.decide_admit(member("xa-a"), f, roster)
    assert isinstance(event, LearnerWaitlisted)


def test_the_waiting_list_policy_is_the_default_and_what_an_older_class_opened_event_means():
    assert r.ClassFacts(class_id=uuid4(), title="Lớp", capacity=1).when_full == "waiting-list"
    opened = ClassOpened.model_validate({
        "class_id": str(uuid4()), "programme_type": "so_cap_llct", "title": "Lớp", "capacity": 1,
        "starts_on": "2026-12-01", "ends_on": "2026-12-20", "venue": "Hội trường"})
    assert opened.when_full == "waiting-list"
    f = facts(capacity=1)
    roster = admit(f, r.Roster(), member())
    [event] = r.decide_admit(member(), f, roster)
    assert isinstance(event, LearnerWaitlisted)


def test_lowering_the_capacity_below_the_seats_taken_is_refused_and_unseats_nobody():
    f = facts(capacity=5)
    roster = admit(f, r.Roster(), member(), member(), member())
    with pytest.raises(Rejected) as refused:
        r.decide_change_capacity(r.ChangeCapacity(capacity=2), f, roster)
    assert refused.value.code == "capacity-below-seats-taken"
    assert refused.value.extra == {"capacity": 5, "seats_taken": 3}
    assert "3 seats taken" in refused.value.detail and "đã có 3 học viên" in refused.value.detail_vi


def test_lowering_the_capacity_down_to_the_seats_taken_makes_the_next_learner_wait():
    f = facts(capacity=5)
    roster = admit(f, r.Roster(), member(), member(), member())
    roster, events = change(f, roster, 3)
    assert events == [ClassCapacityChanged(class_id=f.class_id, class_title=f.title, capacity=3,
                                           previous_capacity=5)]
    assert r.capacity_of(f, roster) == 3
    [event] = r.decide_admit(member(), f, roster)
    assert isinstance(event, LearnerWaitlisted)


def test_raising_the_capacity_promotes_the_waiting_learners_in_order_in_the_same_decision():
    f = facts(capacity=2)
    first, second, third = member(), member(), member()
    roster = admit(f, r.Roster(), member(), member(), first, second, third)
    roster, events = change(f, roster, 4)
    assert isinstance(events[0], ClassCapacityChanged) and events[0].previous_capacity == 2
    assert [(e.learner_id, e.seat_number, e.from_waiting_list) for e in events[1:]] == [
        (first.learner_id, 3, True), (second.learner_id, 4, True)]
    assert [m.learner_id for m in roster.waiting] == [third.learner_id]
    assert roster.seats_taken == 4


def test_raising_the_capacity_skips_a_waiting_learner_whose_organisation_is_at_its_quota():
    f = facts(capacity=1)
    roster, _ = quota(f, r.Roster(), "xa-a", 1)
    over, next_one = member("xa-a"), member("xa-b")
    roster = admit(f, roster, member("xa-a"), over, next_one)
    roster, events = change(f, roster, 3)
    assert [e.learner_id for e in events if isinstance(e, LearnerEnrolled)] == [next_one.learner_id]
    assert [m.learner_id for m in roster.waiting] == [over.learner_id]


def test_a_changed_capacity_holds_for_later_decisions_and_withdrawals_promote_up_to_it():
    f = facts(capacity=1)
    seated, waiting = member(), member()
    roster = admit(f, r.Roster(), seated)
    roster, _ = change(f, roster, 2)
    roster = admit(f, roster, member())
    [event] = r.decide_admit(waiting, f, roster)
    assert isinstance(event, LearnerWaitlisted)
    roster = apply(roster, [event])
    events = r.decide_withdraw(seated.learner_id, "đơn xin rút", f, roster)
    assert isinstance(events[-1], LearnerEnrolled) and events[-1].learner_id == waiting.learner_id


def test_the_same_capacity_changes_nothing_and_a_cancelled_class_s_capacity_cannot_change():
    f = facts(capacity=2)
    assert r.decide_change_capacity(r.ChangeCapacity(capacity=2), f, r.Roster()) == []
    with pytest.raises(Rejected) as refused:
        r.decide_change_capacity(r.ChangeCapacity(capacity=3), facts(cancelled=True), r.Roster())
    assert refused.value.code == "class-cancelled"
