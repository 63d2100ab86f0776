"""Changes to the province's map of sending organisations, each dated and ordered by a decision: merging several
into one (the successor, new or already registered), renaming, moving under another parent, dissolving. Pure
decide functions over the directory's facts (what the view holds about the codes involved).

Nothing recorded under an old code is rewritten: the change is one more event, and from its effective date the
old code sends no one (`succeeded`) and its mail reaches the successor (notification applies the same events).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator
from ttct.contracts import DomainEvent
from ttct.contracts.envelope import Code
from ttct.contracts.organisation_dissolved import OrganisationDissolved
from ttct.contracts.organisation_moved import OrganisationMoved
from ttct.contracts.organisation_renamed import OrganisationRenamed
from ttct.contracts.organisations_merged import OrganisationsMerged
from ttct.contracts.sending_organisation_registered import SendingOrganisationRegistered
from ttct.contracts.types import ReorganisationDecision, VietnameseText
from ttct.domain.errors import Invalid, NotFound, Rejected

from enrolment.domain.organisations import (
    Organisation,
    OrganisationDetails,
    ParentFacts,
    RegisterOrganisation,
    decide_register,
)

EFFECTIVE = "the first day the change holds (ngày có hiệu lực); earlier or later than today alike"


class Dated(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    effective_on: date = Field(description=EFFECTIVE)
    decision: ReorganisationDecision = Field(description="the decision that ordered it (quyết định): number, date")


class MergeOrganisations(Dated):
    predecessor_codes: list[Code] = Field(min_length=1, max_length=100,
                                          description="the organisations merged; from effective_on they send no one")
    successor_code: Code = Field(description="the organisation they become: registered already, or registered by "
                                             "this merge with `successor` (its details)")
    successor: OrganisationDetails | None = Field(
        default=None, description="the successor's details when the merge creates it (omit for an existing one)")

    @model_validator(mode="after")
    def _distinct(self) -> MergeOrganisations:
        if len(set(self.predecessor_codes)) != len(self.predecessor_codes):
            raise ValueError("each predecessor once")
        if self.successor_code in self.predecessor_codes:
            raise ValueError("the successor cannot be one of its predecessors")
        return self


class RenameOrganisation(Dated):
    name: VietnameseText


class MoveOrganisation(Dated):
    parent_code: Code


class DissolveOrganisation(Dated):
    successor_code: Code | None = Field(
        default=None, description="who takes over its people and mail; its parent when omitted")


@dataclass(frozen=True)
class DirectoryFacts:
    """What the directory holds about one code: its registration and, if it was merged or dissolved, into whom."""

    code: str
    name: str
    kind: str
    centre: str
    parent_code: str | None
    successor_code: str | None = None
    effective_on: date | None = None


@dataclass(frozen=True)
class Succession:
    """Who an organisation's code now stands for, followed to the end of a chain of merges and dissolutions."""

    code: str
    successor_code: str
    successor_name: str
    effective_on: date
    decision_number: str


def _unknown(code: str) -> Invalid:
    return Invalid(f"no organisation {code} in the province's directory",
                   f"Không có đơn vị {code} trong danh mục của tỉnh", code="organisation-unknown",
                   organisation_code=code)


def _already(facts: DirectoryFacts) -> Rejected:
    return Rejected(f"organisation {facts.code} was already merged or dissolved into {facts.successor_code} "
                    f"from {facts.effective_on}",
                    f"Đơn vị {facts.code} đã được sáp nhập hoặc giải thể vào {facts.successor_code} từ ngày "
                    f"{facts.effective_on:%d/%m/%Y}", code="organisation-succeeded", organisation_code=facts.code,
                    successor_code=facts.successor_code)


def _current(code: str, facts: Mapping[str, DirectoryFacts]) -> DirectoryFacts:
    found = facts.get(code)
    if found is None:
        raise _unknown(code)
    if found.successor_code is not None:
        raise _already(found)
    return found


def decide_merge(command: MergeOrganisations, facts: Mapping[str, DirectoryFacts], parent: ParentFacts | None,
                 state: Organisation) -> list[DomainEvent]:
    """On the successor's stream: its registration if the merge creates it, then OrganisationsMerged. `facts`
    hold the predecessors and the successor as the directory knows them; `parent` the new successor's parent."""
    for code in command.predecessor_codes:
        _current(code, facts)
    events: list[DomainEvent] = []
    if state.registered is None:
        if command.successor is None:
            raise Invalid(f"{command.successor_code} is not registered: give its details (successor) to register "
                          "it with the merge",
                          f"Đơn vị {command.successor_code} chưa có trong danh mục: cần thông tin đơn vị mới "
                          "(successor) để đăng ký cùng việc sáp nhập", code="successor-details-required")
        register = RegisterOrganisation(code=command.successor_code, **command.successor.model_dump())
        events += decide_register(register, parent, state, update=False)
        name = command.successor.name
    else:
        if command.successor is not None:
            raise Rejected(f"{command.successor_code} is registered already: omit its details (successor), or "
                           "change them with PUT", f"Đơn vị {command.successor_code} đã có trong danh mục: không "
                           "gửi lại thông tin đơn vị (successor)", code="organisation-exists")
        name = _current(command.successor_code, facts).name
    return [*events, OrganisationsMerged(successor_code=command.successor_code, successor_name=name,
                                         predecessor_codes=command.predecessor_codes,
                                         effective_on=command.effective_on, decision=command.decision)]


def _registered(code: str, state: Organisation) -> SendingOrganisationRegistered:
    if state.registered is None:
        raise NotFound(f"no organisation {code} in the province's directory",
                       f"Không có đơn vị {code} trong danh mục của tỉnh", code="organisation-unknown")
    return state.registered


def decide_rename(code: str, command: RenameOrganisation, facts: Mapping[str, DirectoryFacts],
                  state: Organisation) -> list[DomainEvent]:
    registered = _registered(code, state)
    _current(code, facts)
    if command.name == registered.name:
        return []
    return [OrganisationRenamed(code=code, name=command.name, previous_name=registered.name,
                                effective_on=command.effective_on, decision=command.decision)]


def decide_move(code: str, command: MoveOrganisation, facts: Mapping[str, DirectoryFacts], parent: ParentFacts | None,
                state: Organisation) -> list[DomainEvent]:
    """Under another parent: the same rules as a registration's (kinds, no cycle of one, the parent's centre
    becomes the organisation's)."""
    registered = _registered(code, state)
    current = _current(code, facts)
    if command.parent_code == registered.parent_code:
        return []
    if parent is not None and parent.code in facts and facts[parent.code].successor_code is not None:
        raise _already(facts[parent.code])
    check = RegisterOrganisation(code=code, name=registered.name, kind=registered.kind,
                                 parent_code=command.parent_code,
                                 centre=parent.centre if parent is not None else current.centre,
                                 contacts=registered.contacts)
    decide_register(check, parent, state, update=True)  # the registration's checks, its event unused
    return [OrganisationMoved(code=code, parent_code=command.parent_code, previous_parent_code=registered.parent_code,
                              effective_on=command.effective_on, decision=command.decision)]


def dissolution_successor(code: str, command: DissolveOrganisation, facts: Mapping[str, DirectoryFacts]) -> str:
    successor = command.successor_code or _current(code, facts).parent_code
    if successor is None:
        raise Invalid(f"{code} has no parent: name who takes over its people and mail (successor_code)",
                      f"Đơn vị {code} không có cấp trên: cần chỉ rõ đơn vị tiếp nhận (successor_code)",
                      code="successor-required")
    if successor == code:
        raise Invalid("an organisation cannot take itself over", "Đơn vị không thể tự tiếp nhận chính nó",
                      code="successor-required")
    return successor


def decide_dissolve(code: str, command: DissolveOrganisation, facts: Mapping[str, DirectoryFacts],
                    state: Organisation) -> list[DomainEvent]:
    _registered(code, state)
    _current(code, facts)
    successor = dissolution_successor(code, command, facts)
    taker = _current(successor, facts)
    return [OrganisationDissolved(code=code, successor_code=successor, successor_name=taker.name,
                                  effective_on=command.effective_on,
                                  decision=command.decision)]


def succeeded(succession: Succession) -> tuple[str, str]:
    """Why an enrolment cannot name a code that was merged or dissolved (English, Vietnamese)."""
    s = succession
    return (f"organisation {s.code} no longer sends learners: from {s.effective_on} it is part of {s.successor_code} "
            f"({s.successor_name}), decision {s.decision_number}; enrol under {s.successor_code}",
            f"Đơn vị {s.code} không còn cử học viên: từ ngày {s.effective_on:%d/%m/%Y} đã sáp nhập vào "
            f"{s.successor_name} ({s.successor_code}) theo quyết định {s.decision_number}; hãy ghi đơn vị "
            f"{s.successor_code}")


def check_not_succeeded(code: str, successions: Mapping[str, Succession], field: str) -> None:
    """422 organisation-succeeded naming the successor, if `code` was merged or dissolved by now."""
    found = successions.get(code)
    if found is not None:
        en, vi = succeeded(found)
        raise Invalid(en, vi, code="organisation-succeeded", organisation_code=code,
                      successor_code=found.successor_code, errors=[{"field": field, "message": en}])
