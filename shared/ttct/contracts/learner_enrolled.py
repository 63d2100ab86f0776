"""LearnerEnrolled v4: a learner took a seat in a class (published by enrolment).

Carries the learner's name and birth date (sealed with the learner's key since v2; v1 had them in clear), sending
organisation and the class title, so that readers (assessment, notification) need no other stream to act on it. A promotion from the class's waiting list
(`from_waiting_list`) and the arrival side of a transfer are LearnerEnrolled too.

v3 adds `dispatch_decision`, the decision by which the organisation sent the learner (quyết định cử đi học), when
the enrolment cited one (a promotion or a transfer keeps the one cited when the learner was first admitted).

v4 adds `profile`, the learner's profile sealed like `personal` (a promotion or a transfer keeps it).
"""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import DispatchDecision, SealedPersonalData, SendingOrganisation, VietnameseText


class LearnerEnrolled(DomainEvent):
    event_type: ClassVar[str] = "LearnerEnrolled"
    schema_version: ClassVar[int] = 4
    context: ClassVar[str] = "enrolment"

    class_id: UUID
    class_title: VietnameseText
    learner_id: UUID
    personal: SealedPersonalData
    """The learner's name and birth date, sealed with their key: `ttct.privacy.personal`."""
    sending_organisation: SendingOrganisation
    seat_number: int = Field(ge=1)
    from_waiting_list: bool = False
    dispatch_decision: DispatchDecision | None = None
    profile: SealedPersonalData | None = None
    """The learner's gender, position, date of party admission and party card number as far as the centre recorded
    them (`LearnerProfile`), sealed with their key like `personal`; None when none was given."""
