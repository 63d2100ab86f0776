"""SessionScheduled v1: a teaching session (or a field trip, with its site) was scheduled in a class, with its
date, time slot, topic, venue and lecturer (published by scheduling).

`planned_sessions` is the class's total of scheduled sessions after this one, so attendance readers know how
many sessions a learner's eligibility is counted over without replaying the class.
"""
from __future__ import annotations

from datetime import date, time
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import VietnameseText


class SessionScheduled(DomainEvent):
    event_type: ClassVar[str] = "SessionScheduled"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "scheduling"

    class_id: UUID
    session_id: UUID
    session_date: date
    starts_at: time
    ends_at: time
    topic: VietnameseText
    venue: VietnameseText
    lecturer_id: UUID
    lecturer_name: VietnameseText
    field_trip_site: VietnameseText | None = None
    planned_sessions: int = Field(ge=0)
