"""The province's directory of sending organisations (đơn vị cử học viên), one aggregate per organisation code
(`enrolment:organisation:<code>`). Pure decide and evolve.

The hierarchy: a centre area (the district a centre serves) → party committees, communes, mass organisations and
government bodies → party cells. Every organisation but a centre area names the head of its party committee
among its contacts (exactly one contact with `is_head`), who is kept informed of its learners.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from pydantic import BaseModel, ConfigDict, Field
from ttct.contracts import DomainEvent
from ttct.contracts.envelope import Code
from ttct.contracts.organisation_moved import OrganisationMoved
from ttct.contracts.organisation_renamed import OrganisationRenamed
from ttct.contracts.sending_organisation_registered import (
    OrganisationKind,
    SendingOrganisationRegistered,
)
from ttct.contracts.types import OrganisationContact, SendingOrganisation, VietnameseText
from ttct.domain.errors import Invalid, NotFound, Rejected
from ttct.domain.versions import check_version

MIDDLE: tuple[str, ...] = ("party-committee", "commune", "mass-organisation", "government")
ALLOWED_PARENTS: dict[str, tuple[str, ...]] = {
    "centre-area": (),
    **{kind: ("centre-area",) for kind in MIDDLE},
    "party-cell": MIDDLE,
}


class OrganisationDetails(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: VietnameseText
    kind: OrganisationKind
    parent_code: Code | None = None
    centre: Code = Field(description="the centre whose area the organisation is in")
    contacts: list[OrganisationContact] = Field(
        default_factory=list, max_length=50,
        description="the people to reach; every organisation but a centre area names exactly one of them with "
                    '"is_head": true, the head of its party committee (người đứng đầu cấp ủy), who receives its '
                    "learners' absence alerts and result reports (422 head-contact-missing without one)")


class RegisterOrganisation(OrganisationDetails):
    code: Code = Field(description="the organisation's code, unique in the province (a lowercase slug)")


@dataclass(frozen=True)
class ParentFacts:
    code: str
    kind: str
    centre: str


@dataclass(frozen=True)
class Organisation:
    registered: SendingOrganisationRegistered | None = None
    version: int = 0  # events applied: the stream's version, the organisation's ETag


def stream_id(code: str) -> str:
    return f"enrolment:organisation:{code}"


def _check(command: RegisterOrganisation, parent: ParentFacts | None) -> None:
    allowed = ALLOWED_PARENTS[command.kind]
    if command.parent_code is None:
        if command.kind == "party-cell":
            raise Invalid("a party cell belongs to a party committee, commune, mass organisation or government body: "
                          "give its parent_code", "Chi bộ phải thuộc một đơn vị cấp trên: cần mã đơn vị cấp trên",
                          code="parent-required")
    elif not allowed:
        raise Invalid(f"a {command.kind} is the top of the hierarchy and has no parent",
                      "Địa bàn trung tâm là cấp cao nhất, không có đơn vị cấp trên", code="parent-not-allowed")
    elif command.parent_code == command.code:
        raise Invalid("an organisation cannot be its own parent", "Đơn vị không thể là cấp trên của chính nó",
                      code="parent-not-allowed")
    elif parent is None:
        raise Invalid(f"no organisation {command.parent_code} in the province's directory",
                      f"Không có đơn vị {command.parent_code} trong danh mục của tỉnh", code="parent-unknown")
    elif parent.kind not in allowed:
        raise Invalid(f"a {command.kind} cannot belong to a {parent.kind} (allowed: {', '.join(allowed)})",
                      f"Đơn vị loại {command.kind} không thể trực thuộc đơn vị loại {parent.kind}",
                      code="parent-not-allowed")
    elif parent.centre != command.centre:
        raise Invalid(f"{command.parent_code} is in the area of centre {parent.centre}, not {command.centre}",
                      f"Đơn vị cấp trên {command.parent_code} thuộc địa bàn trung tâm {parent.centre}",
                      code="centre-mismatch")
    heads = sum(1 for c in command.contacts if c.is_head)
    if heads > 1:
        raise Invalid("only one contact can be the head of the party committee",
                      "Chỉ một người liên hệ được là người đứng đầu cấp ủy", code="two-heads")
    if heads == 0 and command.kind != "centre-area":
        raise Invalid("name the head of the organisation's party committee among its contacts (is_head: true)",
                      "Cần có người đứng đầu cấp ủy trong danh sách người liên hệ (is_head: true)",
                      code="head-contact-missing")


def decide_register(command: RegisterOrganisation, parent: ParentFacts | None, state: Organisation, *,
                    update: bool, current_centre: str | None = None,
                    if_match: frozenset[str] | None = None) -> list[DomainEvent]:
    """Register a new code (update=False) or change an existing one's details (update=True); unchanged details
    (and the same centre, which travels in the envelope) publish nothing. With `if_match` (the If-Match tags), only
    on the version the client read."""
    check_version(if_match, state.version, f"organisation {command.code}")
    if update and state.registered is None:
        raise NotFound(f"no organisation {command.code} in the province's directory",
                       f"Không có đơn vị {command.code} trong danh mục của tỉnh", code="organisation-unknown")
    if not update and state.registered is not None:
        raise Rejected(f"an organisation with code {command.code} is already registered ({state.registered.name})",
                       f"Mã đơn vị {command.code} đã được đăng ký ({state.registered.name})",
                       code="organisation-exists")
    _check(command, parent)
    event = SendingOrganisationRegistered(code=command.code, name=command.name, kind=command.kind,
                                          parent_code=command.parent_code, contacts=command.contacts)
    if event == state.registered and command.centre == current_centre:
        return []
    return [event]


def evolve(state: Organisation, event: DomainEvent) -> Organisation:
    """A rename or a move changes what the organisation is registered as (so a PUT of the new details is no
    change); a merge into it or its dissolution only counts (the directory's view holds who succeeded whom)."""
    if isinstance(event, SendingOrganisationRegistered):
        return Organisation(registered=event, version=state.version + 1)
    if isinstance(event, OrganisationRenamed) and state.registered is not None:
        return Organisation(registered=state.registered.model_copy(update={"name": event.name}),
                            version=state.version + 1)
    if isinstance(event, OrganisationMoved) and state.registered is not None:
        return Organisation(registered=state.registered.model_copy(update={"parent_code": event.parent_code}),
                            version=state.version + 1)
    return replace(state, version=state.version + 1)


class OrganisationRef(BaseModel):
    """How a request names the organisation that sends a learner: by its code in the province's directory."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code = Field(description="the organisation's code, registered in the province's directory "
                                   "(422 organisation-not-registered otherwise)")
    name: VietnameseText | None = Field(
        default=None, description="not used: the learner's organisation is named as the directory names it (the "
                                  "answer shows that name), so lists that abbreviate or misspell a name do not "
                                  "make a second organisation")


def not_registered(code: str) -> tuple[str, str]:
    """Why an enrolment cannot name `code` (English, Vietnamese)."""
    return (f"organisation {code} is not registered in the province's directory: register it first "
            "(POST /v1/sending-organisations)",
            f"Đơn vị {code} chưa có trong danh mục đơn vị cử học viên của tỉnh: cần đăng ký đơn vị trước")


def sending_organisation(code: str, directory: Mapping[str, str]) -> SendingOrganisation:
    """The organisation `code` names, as the directory (code -> registered name) names it. The directory is the
    source of truth: an unregistered code would send results and absence alerts to nobody."""
    name = directory.get(code)
    if name is None:
        en, vi = not_registered(code)
        raise Invalid(en, vi, code="organisation-not-registered", organisation_code=code,
                      errors=[{"field": "body.sending_organisation.code", "message": en}])
    return SendingOrganisation(code=code, name=name)
