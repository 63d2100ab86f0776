"""SessionCancelled v1: a scheduled session of a class was cancelled; its lecturer and venue are free again
(published by scheduling). `planned_sessions` is the class's total of scheduled sessions after the cancellation.
"""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from ttct.contracts.envelope import DomainEvent


class SessionCancelled(DomainEvent):
    event_type: ClassVar[str] = "SessionCancelled"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "scheduling"

    class_id: UUID
    session_id: UUID
    planned_sessions: int = Field(ge=0)
