"""OrganisationRenamed v1: a sending organisation keeps its code and takes a new name from `effective_on`, by the
decision cited (published by enrolment, on the organisation's stream).

Records made before keep the name of their time; enrolments from that day name the organisation by its new name.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from ttct.contracts.envelope import Code, DomainEvent
from ttct.contracts.types import ReorganisationDecision, VietnameseText


class OrganisationRenamed(DomainEvent):
    event_type: ClassVar[str] = "OrganisationRenamed"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "enrolment"

    code: Code
    name: VietnameseText
    previous_name: VietnameseText
    effective_on: date
    decision: ReorganisationDecision
