"""What assessment knows from other services' events: a class (scheduling) and its learners (enrolment)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import UUID

from ttct.contracts.types import SealedPersonalData, SendingOrganisation
from ttct.domain.errors import NotFound, Rejected


@dataclass(frozen=True)
class LearnerInClass:
    """An enrolled learner, from enrolment's LearnerEnrolled (and LearnerWithdrawn)."""

    class_id: UUID
    class_title: str
    learner_id: UUID
    full_name: str
    """As staff see it: opened from `personal` when LearnerEnrolled was projected, `ttct.privacy.personal.ERASED` after an
    erasure."""
    personal: SealedPersonalData
    """The sealed name from LearnerEnrolled, copied into the events about the learner (never opened to publish)."""
    sending_organisation: SendingOrganisation
    enrolled_on: date | None = None
    """The day (Vietnam time) the learner took the seat; sessions before it never count for them."""
    withdrawn: bool = False


@dataclass(frozen=True)
class SessionFact:
    session_id: UUID
    session_date: date


@dataclass(frozen=True)
class ClassFacts:
    """A class as scheduling described it: ClassOpened, the sessions scheduled and not cancelled, ClassCancelled."""

    class_id: UUID
    title: str = ""
    programme_type: str | None = None
    programme_code: str | None = None
    opened: bool = False
    cancelled: bool = False
    planned_sessions: int = 0
    """From ClassOpened: the sessions planned when the class opened (0 = not known)."""
    max_absence_ratio: Decimal = Decimal("0.2")
    excused_absences_count: bool = False
    assessment_scheme: str | None = None
    sessions: tuple[SessionFact, ...] = ()
    cancelled_sessions: frozenset[UUID] = frozenset()
    scheduled_total: int | None = None
    """scheduled_sessions of the latest SessionScheduled/SessionCancelled: the class's scheduled sessions."""
    scheduled_plan: int | None = None
    """planned_sessions of the same event: the class's plan as scheduling counts it (from a v1 event: only the
    sessions scheduled)."""
    pinned_scheme: str | None = field(default=None)
    """The scheme version the class's first score was recorded under: later scores keep it."""

    @property
    def planned_total(self) -> int:
        """The class's sessions: its plan, or more if more are scheduled (or known here). Never only the sessions
        scheduled so far: a course scheduled a week at a time would count a learner's first absence over the
        first week's sessions and take their eligibility for good."""
        return max(self.planned_sessions, self.scheduled_plan or 0, self.scheduled_total or 0, len(self.sessions))

    @property
    def planned_known(self) -> bool:
        return self.scheduled_total is not None or self.planned_sessions > 0

    def session(self, session_id: UUID) -> SessionFact:
        for s in self.sessions:
            if s.session_id == session_id:
                return s
        if session_id in self.cancelled_sessions:
            raise Rejected(f"session {session_id} was cancelled", f"Buổi học {session_id} đã bị hủy",
                           code="session-cancelled")
        raise Rejected(f"session {session_id} of class {self.class_id} is not known here (yet)",
                       f"Chưa có thông tin buổi học {session_id} của lớp {self.class_id}", code="session-unknown")

    def usable(self) -> "ClassFacts":
        """The class, if assessment may record anything for it."""
        if self.cancelled:
            raise Rejected(f"class {self.class_id} was cancelled", f"Lớp {self.class_id} đã bị hủy",
                           code="class-cancelled")
        if not self.opened:
            raise class_unknown(self.class_id)
        return self


def class_unknown(class_id: UUID) -> Rejected:
    return Rejected(f"class {class_id} is not known here (yet)", f"Chưa có thông tin lớp {class_id}",
                    code="class-unknown")


def not_in_class(class_id: UUID, learner_ids: list[UUID]) -> NotFound:
    ids = ", ".join(str(i) for i in learner_ids)
    return NotFound(f"not enrolled in class {class_id} at this centre: {ids}",
                    f"Không có tên trong lớp {class_id} của trung tâm này: {ids}",
                    code="learner-not-in-class", learners=[str(i) for i in learner_ids])
