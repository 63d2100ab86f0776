"""EligibilityLost v2: a learner has missed so many sessions that, even attending every session left, they can
no longer reach the class's attendance threshold, so may not sit the final test (published by assessment, once
per learner and class). Notification turns it into an alert for the sending organisation and the head of its
party committee.
"""
from __future__ import annotations

from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import SealedPersonalData, SendingOrganisation, VietnameseText


class EligibilityLost(DomainEvent):
    event_type: ClassVar[str] = "EligibilityLost"
    schema_version: ClassVar[int] = 2
    context: ClassVar[str] = "assessment"

    class_id: UUID
    class_title: VietnameseText
    learner_id: UUID
    personal: SealedPersonalData
    """The learner's name, sealed with their key (copied from LearnerEnrolled): `ttct.privacy.personal`."""
    sending_organisation: SendingOrganisation
    sessions_counted: int
    """The class's planned sessions on or after the learner's enrolment date."""
    absences: int
    """Absences among them (excused ones included when the programme counts them)."""
    max_absence_ratio: Decimal
