"""The province's register of centres over HTTP: register a centre, rename it, merge centres into one or make
them sites of another (each dated, citing its decision), preview what a merge would move, and read the register.
Changes are the province admins'; reading is open to every role that reads the province's registers."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from ttct.contracts.envelope import Code
from ttct.domain.errors import NotFound
from ttct.http.auth import Principal, province_access, province_admin_access
from ttct.http.conventions import READ, WRITE
from ttct.http.problems import command_metadata
from ttct.papers.labels import local_day

from enrolment.adapters import centres as views
from enrolment.domain.centres import MergeCentres, RegisterCentre, RenameCentre
from enrolment.service_layer import centres as handlers

router = APIRouter(prefix="/v1/province-centres", tags=["the province's register of centres"],
                   responses={**READ, **WRITE})
_REFUSED = {422: {**READ[422], "description": "a centre unknown to the register, or merged already, ..."},
            409: {"description": "the code is registered already (centre-exists), or merged already "
                                 "(centre-merged)"}}


class DatedName(BaseModel):
    name: str
    valid_from: date


class CentreView(BaseModel):
    code: str
    name: str = Field(description="its name today (the earliest, before its registration's date)")
    address: str | None
    parent_body: str | None = Field(description="the body it belongs to (cơ quan chủ quản)")
    names: list[DatedName] = Field(description="every name it was registered or renamed with, from when")
    successor_code: str | None = Field(description="the centre it was merged into, or is a site of")
    merge_kind: str | None = Field(description="merged or site")
    merged_on: date | None
    predecessor_codes: list[str] = Field(description="the centres merged into it, or its sites")


class Moves(BaseModel):
    """What one centre has, as far as enrolment knows (its certificates are assessment's: they stay the centre's
    and verify naming it)."""

    code: str
    classes: int
    open_classes: int
    learners: int
    open_enrolments: int


class Preview(BaseModel):
    """What a merge would move where: nothing is changed by asking."""

    successor_code: str
    effective_on: date
    successor: Moves
    predecessors: list[Moves]
    notes: list[str]


_NOTES = [
    "Nothing recorded under a predecessor is rewritten: its classes, sessions, certificates and figures stay its "
    "own, and its certificates verify naming it as it was named when it issued them.",
    "From effective_on the successor's staff read and act on the predecessors' classes in every service; a token "
    "naming only a merged predecessor is refused (403 centre-merged) naming the successor. A site (kind site) "
    "keeps its own staff's access too.",
    "Figures read by today's map (?map=today) count the predecessors under the successor; by the recorded map "
    "they stay apart.",
]


def _today(request: Request) -> date:
    return local_day(request.app.state.runtime.clock())


async def _view(request: Request, code: str) -> CentreView:
    found = await views.listing(request.app.state.runtime.pool, _today(request), code)
    if not found:
        raise NotFound(f"no centre {code} in the province's register of centres",
                       f"Không có trung tâm {code} trong danh mục trung tâm của tỉnh", code="centre-unknown")
    return CentreView.model_validate(found[0])


def _metadata(request: Request, centre: str):
    return command_metadata(request, request.app.state.runtime.settings.province_code, centre)


@router.get("", response_model=list[CentreView], summary="The province's registered centres")
async def centres(request: Request, _caller: Principal = province_access("organisations:read")) -> list[CentreView]:
    rows = await views.listing(request.app.state.runtime.pool, _today(request))
    return [CentreView.model_validate(r) for r in rows]


@router.get("/{code}", response_model=CentreView, summary="One registered centre")
async def centre(code: Code, request: Request,
                 _caller: Principal = province_access("organisations:read")) -> CentreView:
    return await _view(request, code)


@router.post("", status_code=201, response_model=CentreView, responses=_REFUSED,
             summary="Register a centre under the code its classes already use (publishes CentreRegistered; its "
                     "name then wins over the CENTRES setting)")
async def register(command: RegisterCentre, request: Request,
                   _caller: Principal = province_admin_access("centres:write")) -> CentreView:
    await handlers.register(request.app.state.centres_register, command, _metadata(request, command.code))
    return await _view(request, command.code)


@router.post("/{code}/rename", response_model=CentreView, responses=_REFUSED,
             summary="Rename a centre from a date, by a decision (publishes CentreRenamed; what it issued before "
                     "keeps the old name)")
async def rename(code: Code, command: RenameCentre, request: Request,
                 _caller: Principal = province_admin_access("centres:write")) -> CentreView:
    await handlers.rename(request.app.state.runtime.pool, request.app.state.centres_register, code, command,
                          _metadata(request, code))
    return await _view(request, code)


@router.post("/merges", status_code=201, response_model=CentreView, responses=_REFUSED,
             summary="Merge centres into one, or make them sites of another, from a date, by a decision "
                     "(publishes CentresMerged)")
async def merge(command: MergeCentres, request: Request,
                _caller: Principal = province_admin_access("centres:write")) -> CentreView:
    await handlers.merge(request.app.state.runtime.pool, request.app.state.centres_register, command,
                         _metadata(request, command.successor_code))
    return await _view(request, command.successor_code)


@router.post("/merges/preview", response_model=Preview, responses=_REFUSED,
             summary="What a merge would move where (classes, open classes, learners), refused as the merge would "
                     "be; changes nothing")
async def preview_merge(command: MergeCentres, request: Request,
                        _caller: Principal = province_admin_access("centres:write")) -> Preview:
    found = await handlers.preview_merge(request.app.state.runtime.pool, request.app.state.centres_register,
                                         command, _today(request))
    return Preview.model_validate({**found, "effective_on": command.effective_on, "notes": _NOTES})
