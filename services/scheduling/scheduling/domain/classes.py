"""The class aggregate and its sessions: pure decide and evolve, no I/O, no clock, ids injected.

Lifecycle: planned → open (for enrolment) → in progress → completed; cancelled from any state before completed.
A class may also be opened at once, without being planned first. Sessions belong to the class's stream, so the
class's count of scheduled sessions and the rules between its own sessions are decided in one place; clashes
with other classes' sessions (lecturer, venue) are a province-wide rule, see clashes.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, time
from enum import StrEnum
from types import MappingProxyType
from typing import Mapping
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator
from ttct.contracts import ClassOpened, DomainEvent
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.contracts.class_completed import ClassCompleted
from ttct.contracts.class_opened import WhenFull
from ttct.contracts.class_plan_changed import ClassPlanChanged
from ttct.contracts.class_planned import ClassPlanned
from ttct.contracts.class_started import ClassStarted
from ttct.contracts.envelope import Code
from ttct.contracts.session_cancelled import SessionCancelled
from ttct.contracts.session_scheduled import SessionScheduled
from ttct.contracts.types import ProgrammeType, VietnameseText
from ttct.domain.errors import Invalid, NotFound, Rejected

from scheduling.domain.clashes import Slot
from scheduling.domain.programmes import Programme


class OpenClass(BaseModel):
    """A new class: opened at once for enrolment, or (PlanClass) put in the plan first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    programme_type: ProgrammeType
    title: VietnameseText
    capacity: int = Field(ge=1, le=5000)
    starts_on: date
    ends_on: date
    venue: VietnameseText
    programme_code: Code | None = Field(default=None, description="a programme of the centre's catalogue; "
                                        "default: the catalogue's programme of this type")
    when_full: WhenFull = Field(default="waiting-list", description="a learner arriving when every seat is taken "
                                "goes on the waiting list (default) or is refused (refuse)")


class PlanClass(OpenClass):
    pass


class ScheduleSession(BaseModel):
    """A session of a class: a lesson at one of the centre's venues, or a field trip to a site."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    session_date: date
    starts_at: time
    ends_at: time
    topic: VietnameseText
    lecturer_id: UUID
    venue_id: UUID | None = Field(default=None, description="one of the centre's venues (not for a field trip)")
    field_trip_site: VietnameseText | None = Field(default=None, description="the site visited, for a field trip")

    @model_validator(mode="after")
    def _venue_or_site(self) -> ScheduleSession:
        if (self.venue_id is None) == (self.field_trip_site is None):
            raise ValueError("give either venue_id (a lesson) or field_trip_site (a field trip), not both or neither")
        return self


class CancelClass(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: VietnameseText


class ChangePlan(BaseModel):
    """The centre's decision to plan a class for a different number of sessions than its programme does."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    planned_sessions: int = Field(ge=1, le=500, description="the sessions the class plans from now on")
    reason: VietnameseText = Field(description="why (e.g. the number and date of the centre's decision)")


class Status(StrEnum):
    none = "none"
    planned = "planned"
    open = "open"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"


_STATUS_VI = {Status.planned: "đang trong kế hoạch", Status.open: "đang tuyển sinh", Status.in_progress: "đang học",
              Status.completed: "đã kết thúc", Status.cancelled: "đã bị hủy"}
_STATUS_EN = {Status.planned: "only planned", Status.open: "open for enrolment", Status.in_progress: "in progress",
              Status.completed: "completed", Status.cancelled: "cancelled"}


@dataclass(frozen=True)
class SessionEntry:
    slot: Slot
    topic: str
    cancelled: bool = False


@dataclass(frozen=True)
class ClassState:
    status: Status = Status.none
    title: str = ""
    details: ClassPlanned | None = None
    cancel_reason: str | None = None
    sessions: Mapping[UUID, SessionEntry] = field(default_factory=lambda: MappingProxyType({}))
    programme_sessions: int = 0
    """The sessions the class plans: when it opened (ClassOpened: its programme's, or more if more were already
    scheduled; 0 = not known), or as staff last set it (ClassPlanChanged)."""

    @property
    def opened(self) -> bool:
        return self.status is not Status.none

    @property
    def scheduled_sessions(self) -> int:
        return sum(not s.cancelled for s in self.sessions.values())

    def planned_with(self, scheduled: int) -> int:
        """The class's plan once `scheduled` sessions are scheduled: never fewer than its programme plans, so a
        course scheduled a week at a time is not counted (for attendance) over the weeks scheduled so far."""
        return max(self.programme_sessions, scheduled)


def stream_id(class_id: UUID) -> str:
    return f"scheduling:class:{class_id}"


def _check_dates(command: OpenClass) -> None:
    if command.ends_on < command.starts_on:
        raise Invalid("the class must end on or after the day it starts",
                      "Ngày kết thúc lớp phải bằng hoặc sau ngày khai giảng")


def _new_class(class_id: UUID, state: ClassState) -> None:
    if state.opened:
        raise Rejected(f"class {class_id} is already open", f"Lớp {class_id} đã được mở", code="class-exists")


def _rules(programme: Programme | None, scheduled: int) -> dict:
    if programme is None:
        return {}
    return dict(programme_code=programme.code,
                planned_sessions=max(programme.planned_sessions, scheduled),
                max_absence_ratio=programme.max_absence_ratio,
                excused_absences_count=programme.excused_absences_count,
                assessment_scheme=programme.assessment_scheme,
                requires_dispatch_decision=programme.requires_dispatch_decision)


def decide_open(command: OpenClass, class_id: UUID, state: ClassState,
                programme: Programme | None = None) -> list[DomainEvent]:
    """Open a new class at once; it carries its programme's rules."""
    _new_class(class_id, state)
    _check_dates(command)
    fields = command.model_dump(exclude={"programme_code"})
    return [ClassOpened(class_id=class_id, **fields, **_rules(programme, 0))]


def decide_plan(command: PlanClass, class_id: UUID, state: ClassState,
                programme: Programme | None = None) -> list[DomainEvent]:
    _new_class(class_id, state)
    _check_dates(command)
    code = programme.code if programme else command.programme_code
    return [ClassPlanned(class_id=class_id, **command.model_dump(exclude={"programme_code"}), programme_code=code)]


def _refusal(state: ClassState, action_en: str, action_vi: str, code: str) -> Rejected:
    title, status = state.title, state.status
    en = f"class {title!r} is {_STATUS_EN[status]}, so it cannot be {action_en}"
    vi = f"Lớp {title!r} {_STATUS_VI[status]} nên không thể {action_vi}"
    if status is Status.cancelled and state.cancel_reason:
        en, vi = f"{en} (cancelled: {state.cancel_reason})", f"{vi} (lý do hủy: {state.cancel_reason})"
    return Rejected(en, vi, code=code, class_status=status.value)


def _existing(class_id: UUID, state: ClassState) -> ClassPlanned:
    if state.details is None:
        raise NotFound(f"class {class_id} does not exist in this centre",
                       f"Không tìm thấy lớp {class_id} ở trung tâm này")
    return state.details


def decide_open_planned(class_id: UUID, state: ClassState, programme: Programme | None) -> list[DomainEvent]:
    """Open a planned class for enrolment, with its programme's rules as they stand today."""
    details = _existing(class_id, state)
    if state.status is not Status.planned:
        raise _refusal(state, "opened for enrolment (only a planned class can be)", "mở tuyển sinh",
                       "class-not-planned")
    fields = details.model_dump(exclude={"programme_code"})
    rules = _rules(programme, state.scheduled_sessions) or {"programme_code": details.programme_code,
                                                            "planned_sessions": state.scheduled_sessions}
    return [ClassOpened(**fields, **rules)]


def decide_start(class_id: UUID, state: ClassState) -> list[DomainEvent]:
    _existing(class_id, state)
    if state.status is not Status.open:
        raise _refusal(state, "started (only a class open for enrolment can start)", "khai giảng",
                       "class-not-open")
    return [ClassStarted(class_id=class_id)]


def decide_complete(class_id: UUID, state: ClassState) -> list[DomainEvent]:
    _existing(class_id, state)
    if state.status is not Status.in_progress:
        raise _refusal(state, "completed (only a class in progress can be)", "kết thúc", "class-not-in-progress")
    return [ClassCompleted(class_id=class_id)]


def decide_cancel(class_id: UUID, state: ClassState, command: CancelClass) -> list[DomainEvent]:
    _existing(class_id, state)
    if state.status in (Status.completed, Status.cancelled):
        raise _refusal(state, "cancelled", "hủy", "class-closed")
    return [ClassCancelled(class_id=class_id, class_title=state.title, reason=command.reason)]


def _check_schedulable(state: ClassState, action_en: str, action_vi: str) -> None:
    if state.status in (Status.completed, Status.cancelled):
        raise _refusal(state, action_en, action_vi, "class-closed")


def _counts(state: ClassState, scheduled: int) -> dict[str, int]:
    return {"scheduled_sessions": scheduled, "planned_sessions": state.planned_with(scheduled)}


def decide_schedule(command: ScheduleSession, class_id: UUID, session_id: UUID, state: ClassState, *,
                    lecturer_name: str, venue_name: str | None) -> list[DomainEvent]:
    """Schedule a session: inside the class's dates, not overlapping another session of the same class."""
    details = _existing(class_id, state)
    _check_schedulable(state, "given new sessions", "xếp thêm buổi học")
    slot = Slot(command.session_date, command.starts_at, command.ends_at)
    if not details.starts_on <= slot.on <= details.ends_on:
        raise Rejected(f"{slot.on:%d/%m/%Y} is outside the class's dates "
                       f"({details.starts_on:%d/%m/%Y}–{details.ends_on:%d/%m/%Y})",
                       f"Ngày {slot.on:%d/%m/%Y} nằm ngoài thời gian của lớp "
                       f"({details.starts_on:%d/%m/%Y}–{details.ends_on:%d/%m/%Y})", code="session-outside-class")
    for other in state.sessions.values():
        if not other.cancelled and other.slot.overlaps(slot):
            raise Rejected(f"the class already has a session then: {other.topic!r} on {other.slot.describe()}",
                           f"Lớp đã có buổi học trùng giờ: {other.topic!r} {other.slot.describe()}",
                           code="class-session-overlap")
    return [SessionScheduled(
        class_id=class_id, session_id=session_id, session_date=slot.on, starts_at=slot.starts_at,
        ends_at=slot.ends_at, topic=command.topic, venue=venue_name or command.field_trip_site,
        lecturer_id=command.lecturer_id, lecturer_name=lecturer_name, field_trip_site=command.field_trip_site,
        **_counts(state, state.scheduled_sessions + 1))]


def decide_cancel_session(class_id: UUID, session_id: UUID, state: ClassState) -> list[DomainEvent]:
    _existing(class_id, state)
    _check_schedulable(state, "have its sessions changed", "thay đổi buổi học")
    session = state.sessions.get(session_id)
    if session is None:
        raise NotFound(f"class {state.title!r} has no session {session_id}",
                       f"Lớp {state.title!r} không có buổi học {session_id}", code="session-unknown")
    if session.cancelled:
        raise Rejected(f"the session {session.topic!r} on {session.slot.describe()} is already cancelled",
                       f"Buổi học {session.topic!r} {session.slot.describe()} đã bị hủy trước đó",
                       code="session-cancelled")
    return [SessionCancelled(class_id=class_id, session_id=session_id,
                             **_counts(state, state.scheduled_sessions - 1))]


def decide_change_plan(command: ChangePlan, class_id: UUID, state: ClassState) -> list[DomainEvent]:
    """Plan the class for `command.planned_sessions` sessions: not fewer than those already scheduled (cancel some
    first), and only while sessions may still change; a plan that is already the class's changes nothing."""
    _existing(class_id, state)
    _check_schedulable(state, "given another plan", "thay đổi số buổi kế hoạch")
    if state.status is Status.planned:
        raise _refusal(state, "given a plan of sessions before it opens (its programme's plan applies when it "
                       "opens)", "thay đổi số buổi kế hoạch trước khi mở lớp", "class-not-open")
    scheduled = state.scheduled_sessions
    if command.planned_sessions < scheduled:
        raise Rejected(f"the class already has {scheduled} sessions scheduled: it cannot plan only "
                       f"{command.planned_sessions} (cancel sessions first)",
                       f"Lớp đã xếp {scheduled} buổi học nên không thể giảm kế hoạch xuống {command.planned_sessions} "
                       f"buổi (hãy hủy bớt buổi học trước)", code="plan-below-scheduled",
                       scheduled_sessions=scheduled)
    previous = state.planned_with(scheduled)
    if command.planned_sessions == previous:
        return []
    return [ClassPlanChanged(class_id=class_id, planned_sessions=command.planned_sessions,
                             previous_planned_sessions=previous, scheduled_sessions=scheduled,
                             reason=command.reason)]


def _with_session(state: ClassState, session_id: UUID, entry: SessionEntry) -> ClassState:
    return replace(state, sessions=MappingProxyType({**state.sessions, session_id: entry}))


def evolve(state: ClassState, event: DomainEvent) -> ClassState:
    match event:
        case ClassPlanned():
            return replace(state, status=Status.planned, title=event.title, details=event)
        case ClassOpened():
            details = state.details or ClassPlanned(**event.model_dump(include=set(ClassPlanned.model_fields)))
            return replace(state, status=Status.open, title=event.title, details=details,
                           programme_sessions=event.planned_sessions)
        case ClassStarted():
            return replace(state, status=Status.in_progress)
        case ClassCompleted():
            return replace(state, status=Status.completed)
        case ClassCancelled(reason=reason):
            return replace(state, status=Status.cancelled, cancel_reason=reason)
        case ClassPlanChanged():
            return replace(state, programme_sessions=event.planned_sessions)
        case SessionScheduled():
            slot = Slot(event.session_date, event.starts_at, event.ends_at)
            return _with_session(state, event.session_id, SessionEntry(slot, event.topic))
        case SessionCancelled(session_id=sid) if sid in state.sessions:
            return _with_session(state, sid, replace(state.sessions[sid], cancelled=True))
    return state
