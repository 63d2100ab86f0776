"""ClassCapacityChanged v1: a centre changed the number of seats of an open class (published by enrolment).

The capacity a class opened with (ClassOpened, from scheduling) holds until the first of these; from then on
the latest one does. It is decided on the class's roster, where the seats taken are known: a capacity below the
seats taken is refused, so it never unseats anyone. Raising it promotes the first learners of the waiting list
(within their organisations' quotas) in the same append, as LearnerEnrolled with `from_waiting_list`.
"""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import VietnameseText


class ClassCapacityChanged(DomainEvent):
    event_type: ClassVar[str] = "ClassCapacityChanged"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "enrolment"

    class_id: UUID
    class_title: VietnameseText
    capacity: int = Field(ge=1, le=5000)
    previous_capacity: int = Field(ge=1, le=5000)
