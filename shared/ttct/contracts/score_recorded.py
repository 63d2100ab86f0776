"""ScoreRecorded v2: a learner's score in one component of a class's assessment (the single final score of the
default scheme is component "final"), with its grade band under the scheme version it was recorded with
(published by assessment). A later score for the same component replaces the earlier one."""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field, PlainSerializer

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import GradeBand, SealedPersonalData, SendingOrganisation, VietnameseText

Score = Annotated[
    Decimal,
    Field(ge=0, le=10, max_digits=3, decimal_places=1, description="0–10, one decimal"),
    PlainSerializer(float, return_type=float, when_used="json"),
]


class ScoreRecorded(DomainEvent):
    event_type: ClassVar[str] = "ScoreRecorded"
    schema_version: ClassVar[int] = 2
    context: ClassVar[str] = "assessment"

    class_id: UUID
    class_title: VietnameseText
    learner_id: UUID
    personal: SealedPersonalData
    """The learner's name, sealed with their key (copied from LearnerEnrolled): `ttct.privacy.personal`."""
    sending_organisation: SendingOrganisation
    score: Score
    grade_band: GradeBand
    component: str = "final"
    scheme_version: str = "default@1"
    """The assessment scheme, `code@version`, the score was recorded under."""
