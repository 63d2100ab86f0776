"""CentreRenamed v1: a centre keeps its code and takes a new name from `effective_on`, by the decision cited
(published by enrolment, on the centre's stream).

Nothing recorded before is rewritten: a certificate issued before `effective_on` still names the centre as it was
named that day; papers and lists printed from that day use the new name.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from ttct.contracts.envelope import Code, DomainEvent
from ttct.contracts.types import ReorganisationDecision, VietnameseText


class CentreRenamed(DomainEvent):
    event_type: ClassVar[str] = "CentreRenamed"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "enrolment"

    code: Code
    name: VietnameseText
    previous_name: VietnameseText
    effective_on: date
    decision: ReorganisationDecision
