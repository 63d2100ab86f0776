"""ClassPlanned v1: a centre put a class in its plan; not yet open for enrolment (published by scheduling).

Readers may show it in the year's plan; enrolment only accepts learners once ClassOpened follows. `when_full`
(optional, default "waiting-list") is the capacity policy chosen in the plan; opening the class carries it into
ClassOpened.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from ttct.contracts.class_opened import WhenFull
from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import ProgrammeType, VietnameseText


class ClassPlanned(DomainEvent):
    event_type: ClassVar[str] = "ClassPlanned"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "scheduling"

    class_id: UUID
    programme_type: ProgrammeType
    programme_code: str | None
    title: VietnameseText
    capacity: int = Field(ge=1, le=5000)
    starts_on: date
    ends_on: date
    venue: VietnameseText
    when_full: WhenFull = "waiting-list"
