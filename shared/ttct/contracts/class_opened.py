"""ClassOpened v2: a centre opened a class for enrolment (published by scheduling).

The optional fields (added compatibly) carry the class's programme and the rules it inherits from it: how many
sessions are planned (0 = not known yet), the attendance threshold (a learner missing MORE than
`max_absence_ratio` of the sessions counted from their enrolment may not sit the final test), whether excused
absences count as absences, and the assessment scheme (code@version).

`when_full` is the class's capacity policy, as the centre chose it when it planned or opened the class: a learner
arriving when every seat is taken goes on the waiting list ("waiting-list", the default, and what an event stored
before the field existed means) or is refused ("refuse"). A stored event without it reads as "waiting-list".
v2 adds `requires_dispatch_decision`: the programme wants every enrolment in the class to cite the sending
organisation's dispatch decision (quyết định cử đi học). A v1 event is read as not requiring one.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import ProgrammeType, VietnameseText

WhenFull = Literal["waiting-list", "refuse"]
"""What happens to a learner arriving when every seat of a class is taken."""


class ClassOpened(DomainEvent):
    event_type: ClassVar[str] = "ClassOpened"
    schema_version: ClassVar[int] = 2
    context: ClassVar[str] = "scheduling"

    class_id: UUID
    programme_type: ProgrammeType
    title: VietnameseText
    capacity: int = Field(ge=1, le=5000)
    starts_on: date
    ends_on: date
    venue: VietnameseText
    programme_code: str | None = None
    planned_sessions: int = Field(default=0, ge=0)
    max_absence_ratio: Decimal = Field(default=Decimal("0.2"), ge=0, le=1)
    excused_absences_count: bool = False
    assessment_scheme: str | None = None
    when_full: WhenFull = "waiting-list"
    requires_dispatch_decision: bool = False


def upcast_class_opened_v1(payload: dict) -> dict:
    """v1 -> v2: classes opened before the setting existed require no dispatch decision."""
    return {**payload, "requires_dispatch_decision": False}
