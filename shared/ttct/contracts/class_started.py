"""ClassStarted v1: an open class began teaching; it is now in progress (published by scheduling)."""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from ttct.contracts.envelope import DomainEvent


class ClassStarted(DomainEvent):
    event_type: ClassVar[str] = "ClassStarted"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "scheduling"

    class_id: UUID
