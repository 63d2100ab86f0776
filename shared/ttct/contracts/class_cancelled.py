"""ClassCancelled v1: a centre cancelled a class before it was completed (published by scheduling).

Carries the title and the reason, so that enrolment can release its learners and notification can tell the
sending organisations why, without reading another stream. Its sessions are cancelled with it.
"""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import VietnameseText


class ClassCancelled(DomainEvent):
    event_type: ClassVar[str] = "ClassCancelled"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "scheduling"

    class_id: UUID
    class_title: VietnameseText
    reason: VietnameseText
