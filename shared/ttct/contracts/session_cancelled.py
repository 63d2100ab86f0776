"""SessionCancelled v2: a scheduled session of a class was cancelled; its lecturer and venue are free again
(published by scheduling). `scheduled_sessions` is the class's total of scheduled sessions after the
cancellation; `planned_sessions` the class's plan, as in SessionScheduled v2 (the larger of the programme's
planned sessions and those still scheduled). v1 carried only the scheduled total, as `planned_sessions`.
"""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from ttct.contracts.envelope import DomainEvent


class SessionCancelled(DomainEvent):
    event_type: ClassVar[str] = "SessionCancelled"
    schema_version: ClassVar[int] = 2
    context: ClassVar[str] = "scheduling"

    class_id: UUID
    session_id: UUID
    scheduled_sessions: int = Field(ge=0)
    planned_sessions: int = Field(ge=0)
