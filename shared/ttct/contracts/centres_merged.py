"""CentresMerged v1: centres (the predecessors) became part of another (the successor) from `effective_on`, by the
decision cited (published by enrolment, on the successor's stream). `kind` says how: `merged` (the predecessors
are gone, the successor carries on their work) or `site` (a predecessor carries on as a site, cơ sở, of the
successor, under the successor's management).

Either way nothing recorded under a predecessor's code is rewritten: its classes, sessions, certificates and
figures keep where they happened. From `effective_on` the successor's staff read and act on the predecessors'
classes (every service keeps these successions for its access checks), a token naming only a predecessor is
refused naming the successor, and figures read by today's map roll the predecessors up into the successor.
`successor_name` and `predecessor_names` are the names then, for readers that keep no register.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from ttct.contracts.envelope import Code, DomainEvent
from ttct.contracts.types import ReorganisationDecision, VietnameseText

MergeKind = Literal["merged", "site"]


class CentresMerged(DomainEvent):
    event_type: ClassVar[str] = "CentresMerged"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "enrolment"

    successor_code: Code
    successor_name: VietnameseText
    predecessor_codes: list[Code] = Field(min_length=1, max_length=50)
    predecessor_names: list[VietnameseText] = Field(min_length=1, max_length=50,
                                                    description="in the order of predecessor_codes")
    kind: MergeKind = Field(description="merged: the predecessors are gone; site: each carries on as a site (cơ sở) "
                                        "of the successor")
    effective_on: date
    decision: ReorganisationDecision
