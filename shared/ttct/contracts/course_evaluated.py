"""CourseEvaluated v1: one learner's anonymous evaluation of a class after it, entered by the centre from the
survey form (phiếu khảo sát) (published by assessment).

Ratings run from 1 (rất không hài lòng) to 5 (rất hài lòng): the content of the programme, the centre's
organisation of the class, and each lecturer who taught it. Nothing identifies the learner.
"""
from __future__ import annotations

import unicodedata
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import no_control_characters

Rating = Annotated[int, Field(ge=1, le=5, description="1 rất không hài lòng … 5 rất hài lòng")]


def _remark(text: str) -> str:
    text = unicodedata.normalize("NFC", text).strip()
    no_control_characters(text.replace("\n", " ").replace("\t", " "))  # a form's paragraphs are kept
    if not text:
        raise ValueError("must not be blank")
    return text


Remark = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_remark)]
"""Free text of a form (paragraphs kept), in NFC."""


class LecturerRating(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    lecturer_id: UUID
    rating: Rating


class CourseEvaluated(DomainEvent):
    event_type: ClassVar[str] = "CourseEvaluated"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "assessment"

    class_id: UUID
    evaluation_id: UUID
    content: Rating | None = None
    organisation: Rating | None = None
    lecturers: tuple[LecturerRating, ...] = ()
    comment: Remark | None = None
