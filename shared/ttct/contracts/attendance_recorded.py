"""AttendanceRecorded v2: a learner's attendance at one session of a class (published by assessment).

One event per learner per recording of a session's list; a later one for the same session and learner corrects
the earlier one. Carries the learner's name and sending organisation so that notification needs no other stream.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import SealedPersonalData, SendingOrganisation, VietnameseText

AttendanceStatus = Literal["present", "absent", "excused"]


class AttendanceRecorded(DomainEvent):
    event_type: ClassVar[str] = "AttendanceRecorded"
    schema_version: ClassVar[int] = 2
    context: ClassVar[str] = "assessment"

    class_id: UUID
    session_id: UUID
    session_date: date
    learner_id: UUID
    personal: SealedPersonalData
    """The learner's name, sealed with their key (copied from LearnerEnrolled): `ttct.privacy.personal`."""
    sending_organisation: SendingOrganisation
    status: AttendanceStatus
