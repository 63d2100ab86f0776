"""ClassOpened v1: a centre opened a class for enrolment (published by scheduling)."""
from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import ProgrammeType, VietnameseText


class ClassOpened(DomainEvent):
    event_type: ClassVar[str] = "ClassOpened"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "scheduling"

    class_id: UUID
    programme_type: ProgrammeType
    title: VietnameseText
    capacity: int = Field(ge=1, le=5000)
    starts_on: date
    ends_on: date
    venue: VietnameseText
