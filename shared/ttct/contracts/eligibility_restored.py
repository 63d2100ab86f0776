"""EligibilityRestored v1: a learner who had lost eligibility to sit the final test (EligibilityLost) can reach
the class's attendance threshold again (published by assessment): an absence was corrected (re-recorded as
present or excused), or a session was cancelled so that fewer are counted. Notification tells the sending
organisation and the head of its party committee, as it told them of the loss.

Lost and restored alternate for a learner and class: each is published only when the learner's standing
crosses the threshold the other way, so a learner may lose eligibility again after it was restored.
"""
from __future__ import annotations

from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import SealedPersonalData, SendingOrganisation, VietnameseText


class EligibilityRestored(DomainEvent):
    event_type: ClassVar[str] = "EligibilityRestored"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "assessment"

    class_id: UUID
    class_title: VietnameseText
    learner_id: UUID
    personal: SealedPersonalData
    """The learner's name, sealed with their key (copied from LearnerEnrolled): `ttct.privacy.personal`."""
    sending_organisation: SendingOrganisation
    sessions_counted: int
    """The class's planned sessions on or after the learner's enrolment date, now."""
    absences: int
    """Absences among them now (excused ones included when the programme counts them)."""
    max_absence_ratio: Decimal
