"""ScoreRecorded v1: a learner's final score in a class, with its grade band (published by assessment)."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field, PlainSerializer

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import GradeBand, SendingOrganisation, VietnameseText

Score = Annotated[
    Decimal,
    Field(ge=0, le=10, max_digits=3, decimal_places=1, description="0–10, one decimal"),
    PlainSerializer(float, return_type=float, when_used="json"),
]


class ScoreRecorded(DomainEvent):
    event_type: ClassVar[str] = "ScoreRecorded"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "assessment"

    class_id: UUID
    class_title: VietnameseText
    learner_id: UUID
    full_name: VietnameseText
    sending_organisation: SendingOrganisation
    score: Score
    grade_band: GradeBand
