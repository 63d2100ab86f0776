"""LearnerErased v1: a learner's personal data were erased on request (published by enrolment, issue 7).

Their key was destroyed in the key vault, so the name and birth date sealed in every event about them can no
longer be read. Readers redact what they stored from those events (names become `ttct.privacy.personal.ERASED`) and
keep the rest: ids, seats, scores and results, so class figures do not change. Carries no personal data.
"""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from ttct.contracts.envelope import Code, DomainEvent


class LearnerErased(DomainEvent):
    event_type: ClassVar[str] = "LearnerErased"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "enrolment"

    learner_id: UUID
    centre: Code
    """The centre whose staff (or the province administrator for it) asked for the erasure."""
    erased_at: datetime
