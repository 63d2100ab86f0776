"""SessionScheduled v2: a teaching session (or a field trip, with its site) was scheduled in a class, with its
date, time slot, topic, venue and lecturer (published by scheduling).

`scheduled_sessions` is the class's total of scheduled sessions after this one; `planned_sessions` is the class's
plan: the larger of the sessions its programme plans (as ClassOpened carried them) and those scheduled. So
attendance readers know how many sessions a learner's eligibility is counted over without replaying the class,
and a class scheduled a week at a time is not counted over the first week's sessions alone.

v1 called the scheduled total `planned_sessions` and did not say the plan: an upcast v1 event carries the
scheduled total in both fields, and readers take the larger of it and ClassOpened's `planned_sessions`.
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
    schema_version: ClassVar[int] = 2
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
    scheduled_sessions: int = Field(ge=0)
    planned_sessions: int = Field(ge=0)


def upcast_session_count_v1(payload: dict) -> dict:
    """v1 -> v2 of SessionScheduled and SessionCancelled: v1's `planned_sessions` was the scheduled total; the
    plan it did not say is at least that (readers take the larger of it and the class's opening plan)."""
    return {**payload, "scheduled_sessions": payload["planned_sessions"]}
