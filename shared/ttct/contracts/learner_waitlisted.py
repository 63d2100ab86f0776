"""LearnerWaitlisted v4: a learner was put on a class's waiting list (published by enrolment).

Published instead of LearnerEnrolled when the class is full or the learner's sending organisation has used its
quota (chỉ tiêu) in the class. `position` is the learner's place in the waiting list when they joined it (1 =
first); it moves up as learners ahead are promoted or withdraw. A promotion is a later LearnerEnrolled with
`from_waiting_list`.

v3 adds `dispatch_decision`, as LearnerEnrolled v3 does; v4 adds `profile`, as LearnerEnrolled v4 does.
"""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import DispatchDecision, SealedPersonalData, SendingOrganisation, VietnameseText


class LearnerWaitlisted(DomainEvent):
    event_type: ClassVar[str] = "LearnerWaitlisted"
    schema_version: ClassVar[int] = 4
    context: ClassVar[str] = "enrolment"

    class_id: UUID
    class_title: VietnameseText
    learner_id: UUID
    personal: SealedPersonalData
    """The learner's name and birth date, sealed with their key: `ttct.privacy.personal`."""
    sending_organisation: SendingOrganisation
    position: int = Field(ge=1)
    dispatch_decision: DispatchDecision | None = None
    profile: SealedPersonalData | None = None
    """The learner's gender, position, date of party admission and party card number as far as the centre recorded
    them (`LearnerProfile`), sealed with their key like `personal`; None when none was given."""
