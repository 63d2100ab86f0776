"""LearnerWithdrawn v2: a learner left a class, freeing their seat or their place on its waiting list (published
by enrolment).

Also the departure side of a transfer (reason "transferred"; the arrival is a LearnerEnrolled or
LearnerWaitlisted in the other class). A learner promoted into the freed seat is a LearnerEnrolled with
`from_waiting_list` appended with it.
"""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import SealedPersonalData, SendingOrganisation, VietnameseText


class LearnerWithdrawn(DomainEvent):
    event_type: ClassVar[str] = "LearnerWithdrawn"
    schema_version: ClassVar[int] = 2
    context: ClassVar[str] = "enrolment"

    class_id: UUID
    class_title: VietnameseText
    learner_id: UUID
    personal: SealedPersonalData
    """The learner's name, sealed with their key (copied from LearnerEnrolled): `ttct.privacy.personal`."""
    sending_organisation: SendingOrganisation
    reason: str = Field(min_length=1, max_length=500)
