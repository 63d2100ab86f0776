"""ClassCompleted v1: a class in progress finished its teaching; no further sessions (published by scheduling).

Assessment may finalise the class's results from here on.
"""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from ttct.contracts.envelope import DomainEvent


class ClassCompleted(DomainEvent):
    event_type: ClassVar[str] = "ClassCompleted"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "scheduling"

    class_id: UUID
