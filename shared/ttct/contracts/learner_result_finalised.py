"""LearnerResultFinalised v2: a learner's final result in a class (published by assessment when the class's
results are finalised, and again for that learner after a re-sit; the latest one holds).

An ineligible learner (too many absences) has `eligible` false, no score and no grade band, and did not pass.
`certificate_number` names the certificate issued with this result, if the learner passed.
"""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.score_recorded import Score
from ttct.contracts.types import GradeBand, SealedPersonalData, SendingOrganisation, VietnameseText


class LearnerResultFinalised(DomainEvent):
    event_type: ClassVar[str] = "LearnerResultFinalised"
    schema_version: ClassVar[int] = 2
    context: ClassVar[str] = "assessment"

    class_id: UUID
    class_title: VietnameseText
    learner_id: UUID
    personal: SealedPersonalData
    """The learner's name, sealed with their key (copied from LearnerEnrolled): `ttct.privacy.personal`."""
    sending_organisation: SendingOrganisation
    eligible: bool
    final_score: Score | None
    grade_band: GradeBand | None
    passed: bool
    conduct: str | None
    sessions_attended: int
    sessions_counted: int
    certificate_number: str | None = None
