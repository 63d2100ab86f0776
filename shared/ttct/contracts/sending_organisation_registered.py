"""SendingOrganisationRegistered v1: a sending organisation (đơn vị cử học viên) was registered in the province's
directory, or its details changed (published by enrolment).

Organisations form a hierarchy: a centre area (the district a centre serves) → party committees, communes, mass
organisations and government bodies → party cells. `contacts` include the head of its party committee
(`is_head`). Re-registering a code with new details publishes the event again: readers upsert by `code`. The
envelope's centre is the centre whose area the organisation belongs to.
"""
from __future__ import annotations

from typing import ClassVar, Literal

from ttct.contracts.envelope import Code, DomainEvent
from ttct.contracts.types import OrganisationContact, VietnameseText

OrganisationKind = Literal["centre-area", "party-committee", "commune", "mass-organisation", "party-cell",
                           "government"]


class SendingOrganisationRegistered(DomainEvent):
    event_type: ClassVar[str] = "SendingOrganisationRegistered"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "enrolment"

    code: Code
    name: VietnameseText
    kind: OrganisationKind
    parent_code: Code | None = None
    contacts: list[OrganisationContact]
