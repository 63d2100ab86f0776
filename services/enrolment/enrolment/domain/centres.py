"""The province's register of centres (trung tâm chính trị), one aggregate per centre code
(`enrolment:centre:<code>`): registering a centre, renaming it, merging centres into one or making them sites of
another, each dated and (but the registration) ordered by a decision. Pure decide and evolve.

A centre's code was the key of its classes, sessions, certificates and figures before it was registered, and stays
so: nothing recorded under a code is rewritten. A merge is one more event on the successor's stream, from which
every service lets the successor's staff reach the predecessors' classes (ttct.centres, ttct.http.auth).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator
from ttct.contracts import DomainEvent
from ttct.contracts.centre_registered import CentreRegistered
from ttct.contracts.centre_renamed import CentreRenamed
from ttct.contracts.centres_merged import CentresMerged, MergeKind
from ttct.contracts.envelope import Code
from ttct.contracts.types import ReorganisationDecision, VietnameseText
from ttct.domain.errors import Invalid, NotFound, Rejected

EFFECTIVE = "the first day the change holds (ngày có hiệu lực); earlier or later than today alike"


class RegisterCentre(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code = Field(description="the centre's code, as its classes and tokens already name it (a lowercase slug)")
    name: VietnameseText = Field(description='e.g. "Trung tâm Chính trị huyện Hậu Lộc"')
    address: VietnameseText | None = None
    parent_body: VietnameseText | None = Field(default=None, description="the body it belongs to (cơ quan chủ quản)")
    effective_on: date = Field(description="from when the centre holds this name")


class Dated(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    effective_on: date = Field(description=EFFECTIVE)
    decision: ReorganisationDecision = Field(description="the decision that ordered it (quyết định): number, date")


class RenameCentre(Dated):
    name: VietnameseText


class MergeCentres(Dated):
    predecessor_codes: list[Code] = Field(min_length=1, max_length=50,
                                          description="the centres merged into the successor (registered)")
    successor_code: Code = Field(description="the centre they become part of (registered)")
    kind: MergeKind = Field(default="merged", description="merged: the predecessors are gone, their staff work for "
                                                          "the successor; site: each carries on as a site (cơ sở) "
                                                          "of the successor")

    @model_validator(mode="after")
    def _distinct(self) -> MergeCentres:
        if len(set(self.predecessor_codes)) != len(self.predecessor_codes):
            raise ValueError("each predecessor once")
        if self.successor_code in self.predecessor_codes:
            raise ValueError("the successor cannot be one of its predecessors")
        return self


@dataclass(frozen=True)
class Centre:
    registered: CentreRegistered | None = None
    version: int = 0  # events applied: the stream's version


@dataclass(frozen=True)
class CentreFacts:
    """What the register holds about one code: its name now and, if it was merged, into whom from when."""

    code: str
    name: str
    successor_code: str | None = None
    effective_on: date | None = None


def stream_id(code: str) -> str:
    return f"enrolment:centre:{code}"


def _unknown(code: str) -> Invalid:
    return Invalid(f"no centre {code} in the province's register of centres: register it first "
                   "(POST /v1/province-centres)",
                   f"Không có trung tâm {code} trong danh mục trung tâm của tỉnh: cần đăng ký trước",
                   code="centre-unknown", centre_code=code)


def _current(code: str, facts: Mapping[str, CentreFacts]) -> CentreFacts:
    found = facts.get(code)
    if found is None:
        raise _unknown(code)
    if found.successor_code is not None:
        raise Rejected(f"centre {code} was already merged into {found.successor_code} from {found.effective_on}",
                       f"Trung tâm {code} đã được sáp nhập vào {found.successor_code} từ ngày "
                       f"{found.effective_on:%d/%m/%Y}", code="centre-merged", centre_code=code,
                       successor_code=found.successor_code)
    return found


def decide_register(command: RegisterCentre, state: Centre) -> list[DomainEvent]:
    """A code registered once; the same registration again changes nothing (a retried request)."""
    event = CentreRegistered(**command.model_dump())
    if state.registered is not None:
        if state.registered == event:
            return []
        raise Rejected(f"centre {command.code} is registered already ({state.registered.name}): rename it "
                       f"(POST /v1/province-centres/{command.code}/rename)",
                       f"Trung tâm {command.code} đã có trong danh mục ({state.registered.name})",
                       code="centre-exists")
    return [event]


def _registered(code: str, state: Centre) -> CentreRegistered:
    if state.registered is None:
        raise NotFound(f"no centre {code} in the province's register of centres",
                       f"Không có trung tâm {code} trong danh mục trung tâm của tỉnh", code="centre-unknown")
    return state.registered


def decide_rename(code: str, command: RenameCentre, facts: Mapping[str, CentreFacts],
                  state: Centre) -> list[DomainEvent]:
    registered = _registered(code, state)
    _current(code, facts)
    if command.name == registered.name:
        return []
    return [CentreRenamed(code=code, name=command.name, previous_name=registered.name,
                          effective_on=command.effective_on, decision=command.decision)]


def decide_merge(command: MergeCentres, facts: Mapping[str, CentreFacts], state: Centre) -> list[DomainEvent]:
    """On the successor's stream. Every centre named must be registered and not merged already."""
    successor = _registered(command.successor_code, state)
    _current(command.successor_code, facts)
    names = [_current(code, facts).name for code in command.predecessor_codes]
    return [CentresMerged(successor_code=command.successor_code, successor_name=successor.name,
                          predecessor_codes=command.predecessor_codes, predecessor_names=names, kind=command.kind,
                          effective_on=command.effective_on, decision=command.decision)]


def evolve(state: Centre, event: DomainEvent) -> Centre:
    if isinstance(event, CentreRegistered):
        return Centre(registered=event, version=state.version + 1)
    if isinstance(event, CentreRenamed) and state.registered is not None:
        return Centre(registered=state.registered.model_copy(update={"name": event.name}),
                      version=state.version + 1)
    return replace(state, version=state.version + 1)
