"""OrganisationMoved v1: a sending organisation was put under another parent in the province's hierarchy from
`effective_on`, by the decision cited (published by enrolment, on the organisation's stream). The envelope's
centre is the centre whose area it is in from then on (a move may take it into another centre's area).
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from ttct.contracts.envelope import Code, DomainEvent
from ttct.contracts.types import ReorganisationDecision


class OrganisationMoved(DomainEvent):
    event_type: ClassVar[str] = "OrganisationMoved"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "enrolment"

    code: Code
    parent_code: Code
    previous_parent_code: Code | None = None
    effective_on: date
    decision: ReorganisationDecision
