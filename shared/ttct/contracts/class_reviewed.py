"""ClassReviewed v1: the centre's lessons-learned review of a class (rút kinh nghiệm) after it ends (published by
assessment). A later review replaces the earlier one."""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from ttct.contracts.course_evaluated import Remark
from ttct.contracts.envelope import DomainEvent


class ClassReviewed(DomainEvent):
    event_type: ClassVar[str] = "ClassReviewed"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "assessment"

    class_id: UUID
    strengths: Remark | None = None
    shortcomings: Remark | None = None
    lessons: Remark
    """what the centre will do differently (bài học kinh nghiệm)"""
