"""Attendance and eligibility to sit the final test: pure decide and evolve over a class's attendance stream.

A learner's sessions are the class's planned sessions on or after their enrolment date (sessions not yet scheduled
count for everyone); their absences are the sessions marked absent among them, and excused ones too where the
programme counts them. A learner whose absences already exceed max_absence_ratio × their sessions can no longer
reach the threshold, whatever they attend from now on: that moment is EligibilityLost. A learner told so who is
back within the threshold (an absence corrected, a session cancelled) is told EligibilityRestored; each is
published only when the standing crosses the threshold the other way (`eligibility_changes`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from ttct.contracts import DomainEvent
from ttct.contracts.attendance_recorded import AttendanceRecorded, AttendanceStatus
from ttct.contracts.eligibility_lost import EligibilityLost
from ttct.contracts.eligibility_restored import EligibilityRestored
from ttct.domain.errors import Invalid, Rejected

from assessment.domain.facts import ClassFacts, LearnerInClass, not_in_class


class Mark(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    learner_id: UUID
    status: AttendanceStatus


class RecordAttendance(BaseModel):
    """One session's whole list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    marks: tuple[Mark, ...] = Field(min_length=1, max_length=5000)


@dataclass(frozen=True)
class Attendance:
    marks: Mapping[UUID, Mapping[UUID, str]] = field(default_factory=dict)
    """learner -> session -> status"""
    lost: frozenset[UUID] = frozenset()
    """learners told EligibilityLost and not restored since"""


@dataclass(frozen=True)
class Standing:
    sessions_counted: int
    attended: int
    absent: int
    excused: int
    absences: int
    eligible: bool


def stream_id(class_id: UUID) -> str:
    return f"assessment:attendance:{class_id}"


def standing(facts: ClassFacts, learner: LearnerInClass, attendance: Attendance) -> Standing:
    start = learner.enrolled_on
    mine = {s.session_id for s in facts.sessions if start is None or s.session_date >= start}
    not_yet_scheduled = facts.planned_total - len(facts.sessions)
    counted = len(mine) + not_yet_scheduled
    statuses = [status for session, status in attendance.marks.get(learner.learner_id, {}).items() if session in mine]
    absent, excused = statuses.count("absent"), statuses.count("excused")
    absences = absent + (excused if facts.excused_absences_count else 0)
    return Standing(sessions_counted=counted, attended=statuses.count("present"), absent=absent, excused=excused,
                    absences=absences, eligible=absences <= facts.max_absence_ratio * counted)


def decide_record(session_id: UUID, command: RecordAttendance, facts: ClassFacts,
                  learners: Mapping[UUID, LearnerInClass], state: Attendance, *, finalised: bool = False,
                  ) -> list[DomainEvent]:
    """`learners`: the class's learners still enrolled."""
    facts.usable()
    if finalised:
        raise Rejected("the class's results are final: attendance can no longer change",
                       "Kết quả của lớp đã được chốt: không thể sửa điểm danh", code="results-finalised")
    session = facts.session(session_id)
    ids = [m.learner_id for m in command.marks]
    if len(set(ids)) != len(ids):
        raise Invalid("a learner appears twice in the list", "Một học viên có hai lần trong danh sách",
                      code="duplicate-learner")
    if unknown := [i for i in ids if i not in learners]:
        raise not_in_class(facts.class_id, unknown)
    events: list[DomainEvent] = []
    for mark in command.marks:
        if state.marks.get(mark.learner_id, {}).get(session_id) == mark.status:
            continue  # the same list again changes nothing
        learner = learners[mark.learner_id]
        events.append(AttendanceRecorded(
            class_id=facts.class_id, session_id=session_id, session_date=session.session_date,
            learner_id=learner.learner_id, personal=learner.personal,
            sending_organisation=learner.sending_organisation, status=mark.status))
    after = state
    for event in events:
        after = evolve(after, event)
    return events + eligibility_changes(facts, learners, after)


def eligibility_changes(facts: ClassFacts, learners: Mapping[UUID, LearnerInClass],
                        state: Attendance) -> list[DomainEvent]:
    """EligibilityLost for each learner who can no longer reach the threshold and has not been told yet, and
    EligibilityRestored for each learner told so who is back within it; nothing while the class's number of
    sessions is not known, as then no one can tell. Run after attendance is recorded and after a session of the
    class is cancelled (fewer sessions counted may bring a learner back, or, their absences weighing more, not)."""
    if not facts.planned_known:
        return []
    events: list[DomainEvent] = []
    for learner in learners.values():
        s = standing(facts, learner, state)
        told = learner.learner_id in state.lost
        if s.eligible != told:
            continue
        change = EligibilityRestored if told else EligibilityLost
        events.append(change(
            class_id=facts.class_id, class_title=facts.title or learner.class_title,
            learner_id=learner.learner_id, personal=learner.personal,
            sending_organisation=learner.sending_organisation, sessions_counted=s.sessions_counted,
            absences=s.absences, max_absence_ratio=facts.max_absence_ratio))
    return events


def decide_recheck(facts: ClassFacts, learners: Mapping[UUID, LearnerInClass], state: Attendance, *,
                   finalised: bool = False) -> list[DomainEvent]:
    """Eligibility again after the class's sessions changed (a session cancelled); nothing once the class's
    results are final (its learners' eligibility is then what the results say) or the class is cancelled."""
    if finalised or facts.cancelled:
        return []
    return eligibility_changes(facts, learners, state)


def evolve(state: Attendance, event: DomainEvent) -> Attendance:
    match event:
        case AttendanceRecorded(learner_id=learner, session_id=session, status=status):
            # copy only the outer map and this learner's: a class's stream holds learners × sessions events
            marks = dict(state.marks)
            marks[learner] = {**marks.get(learner, {}), session: status}
            return replace(state, marks=marks)
        case EligibilityLost(learner_id=learner):
            return replace(state, lost=state.lost | {learner})
        case EligibilityRestored(learner_id=learner):
            return replace(state, lost=state.lost - {learner})
    return state
