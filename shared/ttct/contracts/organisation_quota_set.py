"""OrganisationQuotaSet v1: a centre set (or, with `quota` null, removed) a sending organisation's quota (chỉ
tiêu) in a class: the most seats its learners may hold there (published by enrolment).

Learners of that organisation beyond the quota wait on the class's waiting list. Raising or removing a quota
promotes the organisation's first waiting learners in the same append (LearnerEnrolled, `from_waiting_list`).
"""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from ttct.contracts.envelope import Code, DomainEvent
from ttct.contracts.types import VietnameseText


class OrganisationQuotaSet(DomainEvent):
    event_type: ClassVar[str] = "OrganisationQuotaSet"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "enrolment"

    class_id: UUID
    class_title: VietnameseText
    organisation_code: Code
    quota: int | None = Field(default=None, ge=0)
