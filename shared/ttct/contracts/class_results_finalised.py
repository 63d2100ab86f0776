"""ClassResultsFinalised v1: a class's results are final, once per class, after one LearnerResultFinalised per
learner (published by assessment). `learners` counts every learner finalised, `passed` those who passed."""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import VietnameseText


class ClassResultsFinalised(DomainEvent):
    event_type: ClassVar[str] = "ClassResultsFinalised"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "assessment"

    class_id: UUID
    class_title: VietnameseText
    programme_type: str | None
    learners: int
    passed: int
