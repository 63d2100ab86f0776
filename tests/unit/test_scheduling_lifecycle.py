"""The class lifecycle and its sessions, as pure decide/evolve: planned → open → in progress → completed, or
cancelled before completion; every refusal names the class's state."""
from datetime import date, time
from decimal import Decimal
from functools import reduce
from uuid import uuid4

import pytest
from pydantic import ValidationError
from scheduling.domain import classes as c
from scheduling.domain.programmes import Programme
from ttct.contracts import ClassOpened
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.contracts.class_completed import ClassCompleted
from ttct.contracts.class_planned import ClassPlanned
from ttct.contracts.class_started import ClassStarted
from ttct.contracts.session_cancelled import SessionCancelled
from ttct.contracts.session_scheduled import SessionScheduled
from ttct.contracts.types import ProgrammeType
from ttct.domain.errors import Invalid, NotFound, Rejected

pytestmark = pytest.mark.unit
CLASS_ID = uuid4()
LECTURER = uuid4()
PROGRAMME = Programme(code="so-cap-llct", programme_type=ProgrammeType.so_cap_llct, name="Sơ cấp LLCT",
                      planned_sessions=30, max_absence_ratio=Decimal("0.15"), excused_absences_count=True,
                      assessment_scheme="so-cap@2")
FIELDS = dict(programme_type="so_cap_llct", title="Lớp Sơ cấp LLCT khóa 3", capacity=40,
              starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 20), venue="Hội trường A")


def run(state, events):
    return reduce(c.evolve, events, state)


def planned():
    return run(c.ClassState(), c.decide_plan(c.PlanClass(**FIELDS), CLASS_ID, c.ClassState(), PROGRAMME))


def at(status: str):
    state = planned()
    steps = {"open": [c.decide_open_planned], "in_progress": [c.decide_open_planned, c.decide_start],
             "completed": [c.decide_open_planned, c.decide_start, c.decide_complete]}
    for step in steps.get(status, []):
        args = (CLASS_ID, state, PROGRAMME) if step is c.decide_open_planned else (CLASS_ID, state)
        state = run(state, step(*args))
    if status == "cancelled":
        state = run(state, c.decide_cancel(CLASS_ID, state, c.CancelClass(reason="Không đủ học viên")))
    return state


def session(**kw):
    fields = dict(session_date=date(2026, 12, 2), starts_at=time(7, 30), ends_at=time(11, 0),
                  topic="Chủ nghĩa Mác – Lênin", lecturer_id=LECTURER, venue_id=uuid4())
    return c.ScheduleSession(**{**fields, **kw})


def schedule(state, **kw):
    return c.decide_schedule(session(**kw), CLASS_ID, uuid4(), state, lecturer_name="Lê Văn Giảng",
                             venue_name="Hội trường A")


def test_planning_a_class_gives_class_planned_naming_its_programme():
    [event] = c.decide_plan(c.PlanClass(**FIELDS), CLASS_ID, c.ClassState(), PROGRAMME)
    assert isinstance(event, ClassPlanned) and event.programme_code == "so-cap-llct"
    assert c.evolve(c.ClassState(), event).status is c.Status.planned


def test_the_whole_lifecycle_planned_open_in_progress_completed_each_an_event():
    state = planned()
    [opened] = c.decide_open_planned(CLASS_ID, state, PROGRAMME)
    assert isinstance(opened, ClassOpened)
    state = c.evolve(state, opened)
    [started] = c.decide_start(CLASS_ID, state)
    assert isinstance(started, ClassStarted)
    state = c.evolve(state, started)
    [completed] = c.decide_complete(CLASS_ID, state)
    assert isinstance(completed, ClassCompleted)
    assert c.evolve(state, completed).status is c.Status.completed


def test_opening_carries_the_programme_defaults_into_class_opened():
    [opened] = c.decide_open_planned(CLASS_ID, planned(), PROGRAMME)
    assert (opened.programme_code, opened.planned_sessions, opened.max_absence_ratio, opened.excused_absences_count,
            opened.assessment_scheme) == ("so-cap-llct", 30, Decimal("0.15"), True, "so-cap@2")
    assert (opened.title, opened.capacity, opened.venue) == ("Lớp Sơ cấp LLCT khóa 3", 40, "Hội trường A")


def test_opening_at_once_also_carries_the_programme_defaults():
    [opened] = c.decide_open(c.OpenClass(**FIELDS), CLASS_ID, c.ClassState(), PROGRAMME)
    assert opened.planned_sessions == 30 and opened.assessment_scheme == "so-cap@2"


def test_a_class_with_sessions_already_scheduled_opens_with_its_programmes_plan_or_more():
    state = planned()
    state = run(state, schedule(state))
    [opened] = c.decide_open_planned(CLASS_ID, state, PROGRAMME)
    assert opened.planned_sessions == 30  # one session scheduled of the programme's 30
    [opened] = c.decide_open_planned(CLASS_ID, state, PROGRAMME.model_copy(update={"planned_sessions": 0}))
    assert opened.planned_sessions == 1  # a programme without a plan: the sessions scheduled


def test_a_class_scheduled_a_week_at_a_time_keeps_its_programmes_plan_until_more_are_scheduled():
    state = at("in_progress")
    events = []
    slots = [(day, time(7, 30), time(11, 0)) for day in range(1, 21)] + [
        (day, time(13, 30), time(17, 0)) for day in range(1, 12)]  # 31: a morning a day, then afternoons
    for day, starts, ends in slots:
        [event] = schedule(state, session_date=date(2026, 12, day), starts_at=starts, ends_at=ends)
        events.append(event)
        state = c.evolve(state, event)
    assert [(e.scheduled_sessions, e.planned_sessions) for e in events[:3]] == [(1, 30), (2, 30), (3, 30)]
    assert (events[-1].scheduled_sessions, events[-1].planned_sessions) == (31, 31)  # one more than planned
    [cancelled] = c.decide_cancel_session(CLASS_ID, events[0].session_id, state)
    assert (cancelled.scheduled_sessions, cancelled.planned_sessions) == (30, 30)


@pytest.mark.parametrize("status", ["planned", "open", "in_progress"])
def test_a_class_can_be_cancelled_at_any_point_before_completion(status):
    state = at(status)
    [event] = c.decide_cancel(CLASS_ID, state, c.CancelClass(reason="Trùng lịch hội nghị"))
    assert isinstance(event, ClassCancelled)
    assert (event.class_title, event.reason) == ("Lớp Sơ cấp LLCT khóa 3", "Trùng lịch hội nghị")


@pytest.mark.parametrize("status, code", [("completed", "class-closed"), ("cancelled", "class-closed")])
def test_a_completed_or_cancelled_class_cannot_be_cancelled(status, code):
    with pytest.raises(Rejected) as refused:
        c.decide_cancel(CLASS_ID, at(status), c.CancelClass(reason="x"))
    assert refused.value.code == code


@pytest.mark.parametrize("status", ["planned", "open", "completed", "cancelled"])
def test_only_a_class_in_progress_can_be_completed(status):
    with pytest.raises(Rejected) as refused:
        c.decide_complete(CLASS_ID, at(status))
    assert "cannot be completed" in refused.value.detail and "không thể kết thúc" in refused.value.detail_vi


@pytest.mark.parametrize("status", ["planned", "in_progress", "completed", "cancelled"])
def test_only_an_open_class_can_start(status):
    with pytest.raises(Rejected):
        c.decide_start(CLASS_ID, at(status))


@pytest.mark.parametrize("status", ["open", "in_progress", "completed", "cancelled"])
def test_only_a_planned_class_can_be_opened_for_enrolment(status):
    with pytest.raises(Rejected):
        c.decide_open_planned(CLASS_ID, at(status), PROGRAMME)


def test_a_cancelled_class_refuses_every_change_and_says_why_it_was_cancelled():
    state = at("cancelled")
    for refuse in (lambda: c.decide_open_planned(CLASS_ID, state, PROGRAMME), lambda: c.decide_start(CLASS_ID, state),
                   lambda: c.decide_complete(CLASS_ID, state), lambda: schedule(state),
                   lambda: c.decide_cancel_session(CLASS_ID, uuid4(), state)):
        with pytest.raises(Rejected) as refused:
            refuse()
        assert "cancelled" in refused.value.detail and "Không đủ học viên" in refused.value.detail_vi


def test_commands_on_a_class_that_does_not_exist_are_not_found():
    with pytest.raises(NotFound):
        c.decide_start(CLASS_ID, c.ClassState())


def test_a_new_class_cannot_be_planned_or_opened_twice():
    with pytest.raises(Rejected):
        c.decide_plan(c.PlanClass(**FIELDS), CLASS_ID, planned(), PROGRAMME)
    with pytest.raises(Rejected):
        c.decide_open(c.OpenClass(**FIELDS), CLASS_ID, planned(), PROGRAMME)


def test_a_planned_class_cannot_end_before_it_starts():
    with pytest.raises(Invalid):
        c.decide_plan(c.PlanClass(**{**FIELDS, "ends_on": date(2026, 11, 1)}), CLASS_ID, c.ClassState())


@pytest.mark.parametrize("status", ["planned", "open", "in_progress"])
def test_sessions_are_scheduled_while_the_class_is_not_closed_and_count_up(status):
    state = at(status)
    [first] = schedule(state)
    assert isinstance(first, SessionScheduled) and first.scheduled_sessions == 1
    assert first.planned_sessions == (1 if status == "planned" else 30)  # the plan is known once the class opens
    assert (first.lecturer_name, first.venue, first.field_trip_site) == ("Lê Văn Giảng", "Hội trường A", None)
    state = c.evolve(state, first)
    [second] = schedule(state, session_date=date(2026, 12, 3))
    assert second.scheduled_sessions == 2


def test_a_field_trip_is_a_session_with_a_site_and_no_venue():
    trip = session(venue_id=None, field_trip_site="Khu di tích lịch sử Hàm Rồng")
    [event] = c.decide_schedule(trip, CLASS_ID, uuid4(), planned(), lecturer_name="Lê Văn Giảng", venue_name=None)
    assert event.field_trip_site == event.venue == "Khu di tích lịch sử Hàm Rồng"


@pytest.mark.parametrize("kw", [dict(venue_id=None), dict(field_trip_site="Đền thờ")])
def test_a_session_has_either_a_venue_or_a_field_trip_site(kw):
    with pytest.raises(ValidationError):
        session(**kw)


def test_a_session_outside_the_class_dates_is_refused():
    with pytest.raises(Rejected) as refused:
        schedule(planned(), session_date=date(2026, 12, 21))
    assert refused.value.code == "session-outside-class"


def test_a_session_must_end_after_it_starts():
    with pytest.raises(Invalid):
        schedule(planned(), starts_at=time(11, 0), ends_at=time(11, 0))


def test_two_sessions_of_one_class_cannot_overlap_even_with_other_lecturers():
    state = planned()
    state = run(state, schedule(state))
    with pytest.raises(Rejected) as refused:
        schedule(state, lecturer_id=uuid4(), starts_at=time(10, 0), ends_at=time(12, 0))
    assert refused.value.code == "class-session-overlap" and "Chủ nghĩa Mác – Lênin" in refused.value.detail
    assert schedule(state, starts_at=time(11, 0), ends_at=time(12, 0))  # back to back is fine


def test_cancelling_a_session_counts_it_down_frees_its_slot_and_is_refused_twice():
    state = planned()
    [scheduled] = schedule(state)
    state = c.evolve(state, scheduled)
    [cancelled] = c.decide_cancel_session(CLASS_ID, scheduled.session_id, state)
    assert isinstance(cancelled, SessionCancelled) and cancelled.scheduled_sessions == 0
    state = c.evolve(state, cancelled)
    assert schedule(state)[0].scheduled_sessions == 1
    with pytest.raises(Rejected):
        c.decide_cancel_session(CLASS_ID, scheduled.session_id, state)
    with pytest.raises(NotFound):
        c.decide_cancel_session(CLASS_ID, uuid4(), state)


def test_the_capacity_policy_chosen_in_the_plan_travels_into_class_opened_and_defaults_to_the_waiting_list():
    refusing = c.PlanClass(**FIELDS, when_full="refuse")
    state = run(c.ClassState(), c.decide_plan(refusing, CLASS_ID, c.ClassState(), PROGRAMME))
    [opened] = c.decide_open_planned(CLASS_ID, state, PROGRAMME)
    assert opened.when_full == "refuse"
    [opened] = c.decide_open(c.OpenClass(**FIELDS, when_full="refuse"), CLASS_ID, c.ClassState(), PROGRAMME)
    assert opened.when_full == "refuse"
    [opened] = c.decide_open(c.OpenClass(**FIELDS), CLASS_ID, c.ClassState(), PROGRAMME)
    assert opened.when_full == "waiting-list"
    with pytest.raises(ValidationError):
        c.OpenClass(**FIELDS, when_full="overfill")


def test_staff_plan_an_open_class_shorter_or_longer_but_never_below_the_sessions_scheduled():
    state = at("open")
    for _ in range(3):
        state = run(state, schedule(state, session_date=date(2026, 12, 2 + state.scheduled_sessions)))
    assert state.planned_with(state.scheduled_sessions) == 30  # the programme's plan, not the 3 scheduled
    [changed] = c.decide_change_plan(c.ChangePlan(planned_sessions=4, reason="Rút ngắn"), CLASS_ID, state)
    assert (changed.planned_sessions, changed.previous_planned_sessions, changed.scheduled_sessions) == (4, 30, 3)
    state = run(state, [changed])
    [scheduled] = schedule(state, session_date=date(2026, 12, 9))
    assert (scheduled.scheduled_sessions, scheduled.planned_sessions) == (4, 4)  # the staff's plan holds
    state = run(state, [scheduled])
    [scheduled] = schedule(state, session_date=date(2026, 12, 10))
    assert scheduled.planned_sessions == 5  # never fewer than scheduled
    assert c.decide_change_plan(c.ChangePlan(planned_sessions=4, reason="Như cũ"), CLASS_ID, state) == []
    with pytest.raises(Rejected) as refused:
        c.decide_change_plan(c.ChangePlan(planned_sessions=3, reason="Rút ngắn nữa"), CLASS_ID, state)
    assert refused.value.code == "plan-below-scheduled" and "4 buổi" in refused.value.detail_vi


@pytest.mark.parametrize("status", ["planned", "completed", "cancelled"])
def test_a_plan_is_changed_only_while_the_class_runs(status):
    with pytest.raises(Rejected):
        c.decide_change_plan(c.ChangePlan(planned_sessions=10, reason="Đổi"), CLASS_ID, at(status))
