"""ConductRated v1: the centre rated a learner's conduct (rèn luyện) in a class (published by assessment).

Ratings: tot (Tốt), kha (Khá), trung_binh (Trung bình), yeu (Yếu). A later rating replaces an earlier one.
"""
from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from ttct.contracts.envelope import DomainEvent

ConductRating = Literal["tot", "kha", "trung_binh", "yeu"]


class ConductRated(DomainEvent):
    event_type: ClassVar[str] = "ConductRated"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "assessment"

    class_id: UUID
    learner_id: UUID
    rating: ConductRating
    note: str | None = None
