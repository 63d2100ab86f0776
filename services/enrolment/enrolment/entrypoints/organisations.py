"""The province's directory of sending organisations over HTTP (no centre in the path: one directory for the
province; an organisation's `centre` is the centre whose area it is in)."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ttct.auth import Principal
from ttct.contracts.envelope import Code
from ttct.contracts.sending_organisation_registered import OrganisationKind
from ttct.contracts.types import OrganisationContact
from ttct.errors import NotFound
from ttct.http import command_metadata

from enrolment.adapters import organisations as views
from enrolment.domain.organisations import OrganisationDetails, RegisterOrganisation
from enrolment.entrypoints.access import directory_access
from enrolment.service_layer import organisations as handlers

router = APIRouter(prefix="/v1/sending-organisations", tags=["sending organisations"])


class OrganisationView(BaseModel):
    code: str
    centre: str
    name: str
    kind: OrganisationKind
    parent_code: str | None
    contacts: list[OrganisationContact]
    children: int
    registered_at: datetime
    updated_at: datetime


async def _register(request: Request, command: RegisterOrganisation, update: bool) -> OrganisationView:
    runtime = request.app.state.runtime
    metadata = command_metadata(request, runtime.settings.province_code, command.centre)
    row = await handlers.register(runtime.pool, request.app.state.organisations, command, metadata, update=update)
    return OrganisationView.model_validate(row)


@router.post("", status_code=201, response_model=OrganisationView,
             summary="Register a sending organisation (publishes SendingOrganisationRegistered)",
             responses={409: {"description": "the code is already registered"},
                        422: {"description": "parent unknown or of the wrong kind, no head contact, ..."}})
async def register(command: RegisterOrganisation, request: Request,
                   _caller: Principal = directory_access("organisations:write")) -> OrganisationView:
    return await _register(request, command, update=False)


@router.put("/{code}", response_model=OrganisationView,
            summary="Change an organisation's details (publishes SendingOrganisationRegistered again if they changed)")
async def update(code: Code, details: OrganisationDetails, request: Request,
                 _caller: Principal = directory_access("organisations:write")) -> OrganisationView:
    return await _register(request, RegisterOrganisation(code=code, **details.model_dump()), update=True)


@router.get("", response_model=list[OrganisationView], summary="The province's sending organisations")
async def list_organisations(request: Request, kind: OrganisationKind | None = None, parent: Code | None = None,
                             centre: Code | None = None,
                             _caller: Principal = directory_access("organisations:read")) -> list[OrganisationView]:
    rows = await views.list_organisations(request.app.state.runtime.pool, kind=kind, parent=parent, centre=centre)
    return [OrganisationView.model_validate(r) for r in rows]


@router.get("/{code}", response_model=OrganisationView, summary="One sending organisation")
async def get_organisation(code: Code, request: Request,
                           _caller: Principal = directory_access("organisations:read")) -> OrganisationView:
    row = await views.get(request.app.state.runtime.pool, code)
    if row is None:
        raise NotFound(f"no organisation {code} in the province's directory",
                       f"Không có đơn vị {code} trong danh mục của tỉnh", code="organisation-unknown")
    return OrganisationView.model_validate(row)
