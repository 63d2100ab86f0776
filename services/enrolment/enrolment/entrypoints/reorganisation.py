"""Changes to the province's map of sending organisations over HTTP: merge, rename, move, dissolve, each dated and
citing its decision, and previews of a merge or a dissolution that change nothing. Province admins only."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from pydantic import BaseModel
from ttct.contracts.envelope import Code
from ttct.contracts.types import OrganisationContact
from ttct.domain.errors import NotFound
from ttct.http.auth import Principal, province_admin_access
from ttct.http.conventions import READ, WRITE
from ttct.http.problems import command_metadata
from ttct.papers.labels import local_day

from enrolment.adapters import organisations as views
from enrolment.domain.reorganisation import (
    DissolveOrganisation,
    MergeOrganisations,
    MoveOrganisation,
    RenameOrganisation,
)
from enrolment.entrypoints.organisations import OrganisationView
from enrolment.service_layer import reorganisation as handlers

router = APIRouter(prefix="/v1/sending-organisations", tags=["changes to the map of organisations"],
                   responses={**READ, **WRITE})
_REFUSED = {422: {**READ[422], "description": "an organisation unknown, already merged or dissolved, a successor's "
                                              "details missing, a parent of the wrong kind, ..."}}


class Moves(BaseModel):
    """What one organisation has that a change would hand to its successor."""

    code: str
    name: str
    learners: int
    open_enrolments: int
    waiting: int
    open_quotas: int
    contacts: list[OrganisationContact]
    children: list[str]


class Preview(BaseModel):
    """What moves where, if the change were made: nothing is changed by asking."""

    successor_code: str
    effective_on: date
    successor: Moves | None
    predecessors: list[Moves]
    notes: list[str]


_NOTES = [
    "From effective_on the predecessors' codes are refused in enrolments (422 organisation-succeeded); their "
    "learners' histories stay as recorded, and the successor reads them too.",
    "Notification re-addresses from that day the predecessors' notices, result reports and pending deliveries to "
    "the successor's webhook endpoints and contacts; the predecessors' endpoints are disabled then (notification's "
    "GET /v1/organisation-successions/preview lists them).",
    "Organisations under a predecessor (children) stay under it until moved (POST …/{code}/move).",
]


def _metadata(request: Request, centre: str):
    return command_metadata(request, request.app.state.runtime.settings.province_code, centre)


async def _centre(request: Request, code: str) -> str:
    found = await views.get(request.app.state.runtime.pool, code)
    if found is None:
        raise NotFound(f"no organisation {code} in the province's directory",
                       f"Không có đơn vị {code} trong danh mục của tỉnh", code="organisation-unknown")
    return found["centre"]


async def _change(request: Request, handler, code: str, command, centre: str | None = None) -> OrganisationView:
    """Run a change of one organisation (`handler`), its events in the area of `centre` (by default its own)."""
    centre = centre or await _centre(request, code)
    row = await handler(request.app.state.runtime.pool, request.app.state.organisations, code, command,
                        _metadata(request, centre))
    return OrganisationView.model_validate(row)


def _today(request: Request) -> date:
    return local_day(request.app.state.runtime.clock())


@router.post("/merges", status_code=201, response_model=OrganisationView, responses=_REFUSED,
             summary="Merge organisations into one, from a date, by a decision (publishes OrganisationsMerged, and "
                     "SendingOrganisationRegistered for a successor it creates)")
async def merge(command: MergeOrganisations, request: Request,
                _caller: Principal = province_admin_access("organisations:write")) -> OrganisationView:
    found = await views.get(request.app.state.runtime.pool, command.successor_code)
    # an unknown successor without details is refused by the decision (422 successor-details-required)
    centre = command.successor.centre if command.successor else found["centre"] if found else "unknown"
    row = await handlers.merge(request.app.state.runtime.pool, request.app.state.organisations, command,
                               _metadata(request, centre))
    return OrganisationView.model_validate(row)


@router.post("/merges/preview", response_model=Preview, responses=_REFUSED,
             summary="What a merge would move where (learners, open enrolments, quotas, contacts, children), "
                     "refused as the merge would be; changes nothing")
async def preview_merge(command: MergeOrganisations, request: Request,
                        _caller: Principal = province_admin_access("organisations:write")) -> Preview:
    found = await handlers.preview_merge(request.app.state.runtime.pool, request.app.state.organisations, command,
                                         _today(request))
    return Preview.model_validate({**found, "effective_on": command.effective_on, "notes": _NOTES})


@router.post("/{code}/rename", response_model=OrganisationView, responses=_REFUSED,
             summary="Rename an organisation from a date, by a decision (publishes OrganisationRenamed; earlier "
                     "records keep the old name)")
async def rename(code: Code, command: RenameOrganisation, request: Request,
                 _caller: Principal = province_admin_access("organisations:write")) -> OrganisationView:
    return await _change(request, handlers.rename, code, command)


@router.post("/{code}/move", response_model=OrganisationView, responses=_REFUSED,
             summary="Put an organisation under another parent from a date, by a decision (publishes "
                     "OrganisationMoved)")
async def move(code: Code, command: MoveOrganisation, request: Request,
               _caller: Principal = province_admin_access("organisations:write")) -> OrganisationView:
    parent = await views.get(request.app.state.runtime.pool, command.parent_code)
    # the move takes it into its new parent's area
    return await _change(request, handlers.move, code, command, parent["centre"] if parent else None)


@router.post("/{code}/dissolution", response_model=OrganisationView, responses=_REFUSED,
             summary="Dissolve an organisation from a date, by a decision; its successor (its parent unless named) "
                     "takes over its people and mail (publishes OrganisationDissolved)")
async def dissolve(code: Code, command: DissolveOrganisation, request: Request,
                   _caller: Principal = province_admin_access("organisations:write")) -> OrganisationView:
    return await _change(request, handlers.dissolve, code, command)


@router.post("/{code}/dissolution/preview", response_model=Preview, responses=_REFUSED,
             summary="What a dissolution would move where; changes nothing")
async def preview_dissolution(code: Code, command: DissolveOrganisation, request: Request,
                              _caller: Principal = province_admin_access("organisations:write")) -> Preview:
    found = await handlers.preview_dissolution(request.app.state.runtime.pool, request.app.state.organisations,
                                               code, command, _today(request))
    return Preview.model_validate({**found, "effective_on": command.effective_on, "notes": _NOTES})
