"""The class aggregate: pure decide and evolve, no I/O, no clock."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ttct.contracts import ClassOpened, DomainEvent
from ttct.contracts.types import ProgrammeType, VietnameseText
from ttct.errors import Invalid, Rejected


class OpenClass(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    programme_type: ProgrammeType
    title: VietnameseText
    capacity: int = Field(ge=1, le=5000)
    starts_on: date
    ends_on: date
    venue: VietnameseText


@dataclass(frozen=True)
class ClassState:
    opened: bool = False
    title: str = ""


def stream_id(class_id: UUID) -> str:
    return f"scheduling:class:{class_id}"


def decide_open(command: OpenClass, class_id: UUID, state: ClassState) -> list[DomainEvent]:
    if state.opened:
        raise Rejected(f"class {class_id} is already open", f"Lớp {class_id} đã được mở", code="class-exists")
    if command.ends_on < command.starts_on:
        raise Invalid("the class must end on or after the day it starts",
                      "Ngày kết thúc lớp phải bằng hoặc sau ngày khai giảng")
    return [ClassOpened(class_id=class_id, **command.model_dump())]


def evolve(state: ClassState, event: DomainEvent) -> ClassState:
    match event:
        case ClassOpened(title=title):
            return replace(state, opened=True, title=title)
    return state
