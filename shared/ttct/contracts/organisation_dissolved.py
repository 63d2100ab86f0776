"""OrganisationDissolved v1: a sending organisation was dissolved from `effective_on`, by the decision cited
(published by enrolment, on the organisation's stream).

`successor_code` names the organisation that takes over its people and its mail (often its parent;
`successor_name` its name then): from that day the dissolved code is refused in enrolments naming it, and what
would reach the dissolved organisation (notices, result reports, pending deliveries) reaches the successor
instead.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from ttct.contracts.envelope import Code, DomainEvent
from ttct.contracts.types import ReorganisationDecision, VietnameseText


class OrganisationDissolved(DomainEvent):
    event_type: ClassVar[str] = "OrganisationDissolved"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "enrolment"

    code: Code
    successor_code: Code
    successor_name: VietnameseText
    effective_on: date
    decision: ReorganisationDecision
