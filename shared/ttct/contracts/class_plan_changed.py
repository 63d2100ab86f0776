"""ClassPlanChanged v1: a centre changed, by its own decision, how many sessions a class plans (published by
scheduling).

Until the first of these a class plans what its programme plans (ClassOpened's `planned_sessions`), or more if
more sessions are scheduled; scheduling a course a week at a time never shrinks that plan. Staff may set the plan
explicitly, higher or lower than the programme's (a class shortened or lengthened by the centre's decision),
never below the sessions already scheduled; from then on `planned_sessions` here is the class's plan, and the
SessionScheduled/SessionCancelled that follow carry it. Attendance is weighed over it: assessment checks every
learner's eligibility again when it changes.
"""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import VietnameseText


class ClassPlanChanged(DomainEvent):
    event_type: ClassVar[str] = "ClassPlanChanged"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "scheduling"

    class_id: UUID
    planned_sessions: int = Field(ge=1, le=500, description="the class's plan from now on")
    previous_planned_sessions: int = Field(ge=0, le=500)
    scheduled_sessions: int = Field(ge=0, description="the sessions scheduled (not cancelled) when it changed")
    reason: VietnameseText = Field(description="why the centre changed the plan (its decision)")
