"""OrganisationsMerged v1: sending organisations (the predecessors) were merged into one (the successor), from
`effective_on`, by the decision cited (published by enrolment, on the successor's stream).

From that day the predecessors send no one: a predecessor's code in an enrolment is refused naming the successor,
and whatever would reach a predecessor (notices, result reports) reaches the successor, which also reads its
predecessors' learners. Nothing recorded under a predecessor is rewritten: learners' histories keep the names of
their time. A successor registered by the same decision comes with its SendingOrganisationRegistered just before
this event, in the same append; `successor_name` is its name then, for readers that keep no directory.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from ttct.contracts.envelope import Code, DomainEvent
from ttct.contracts.types import ReorganisationDecision, VietnameseText


class OrganisationsMerged(DomainEvent):
    event_type: ClassVar[str] = "OrganisationsMerged"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "enrolment"

    successor_code: Code
    successor_name: VietnameseText
    predecessor_codes: list[Code] = Field(min_length=1, max_length=100)
    effective_on: date
    decision: ReorganisationDecision
