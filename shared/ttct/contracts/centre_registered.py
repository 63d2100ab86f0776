"""CentreRegistered v1: a political-theory training centre (trung tâm chính trị) entered in the province's register
of centres, from `effective_on` (published by enrolment, on the centre's stream `enrolment:centre:<code>`).

A centre's code was already the key of everything it does (classes, sessions, certificates, figures); registering
it gives the code a name, an address and the body it belongs to (cơ quan chủ quản), changed from then on by events
(CentreRenamed, CentresMerged) rather than by the deployment's `CENTRES` setting. A registered name wins over the
setting's; a centre never registered keeps the setting's name, as before.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from ttct.contracts.envelope import Code, DomainEvent
from ttct.contracts.types import VietnameseText


class CentreRegistered(DomainEvent):
    event_type: ClassVar[str] = "CentreRegistered"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "enrolment"

    code: Code
    name: VietnameseText
    address: VietnameseText | None = Field(default=None, description="where the centre is")
    parent_body: VietnameseText | None = Field(
        default=None, description='the body it belongs to (cơ quan chủ quản), e.g. "Huyện ủy Hậu Lộc"')
    effective_on: date = Field(description="from when the centre holds this name (its founding, or the day its "
                                           "existing name was entered)")
