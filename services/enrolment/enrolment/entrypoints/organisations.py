"""The province's directory of sending organisations over HTTP (no centre in the path: one directory for the
province; an organisation's `centre` is the centre whose area it is in)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field
from ttct.contracts.envelope import Code
from ttct.contracts.sending_organisation_registered import OrganisationKind
from ttct.contracts.types import OrganisationContact
from ttct.domain.errors import NotFound
from ttct.domain.versions import if_match_tags
from ttct.http.auth import Principal, province_access
from ttct.http.conventions import CONDITIONAL, IF_MATCH_DESCRIPTION, READ, WRITE, etag
from ttct.http.pagination import Page, page_params, paged
from ttct.http.problems import command_metadata

from enrolment.adapters import organisations as views
from enrolment.domain.organisations import OrganisationDetails, RegisterOrganisation
from enrolment.service_layer import organisations as handlers

router = APIRouter(prefix="/v1/sending-organisations", tags=["sending organisations"], responses=READ)
_ETAG = {"ETag": {"description": "the organisation's version: send it as If-Match to change it safely",
                  "schema": {"type": "string"}}}


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
    previous_name: str | None = Field(None, description="its name before its latest rename (POST …/rename)")
    renamed_on: date | None = Field(None, description="the day that rename holds from; until then enrolments "
                                                      "name it previous_name")
    successor_code: str | None = Field(None, description="the organisation it was merged into or dissolved with "
                                                         "as successor (refused in enrolments from succeeded_on)")
    succession: Literal["merged", "dissolved"] | None = None
    succeeded_on: date | None = None


async def _register(request: Request, response: Response, command: RegisterOrganisation, update: bool,
                    if_match: str | None = None) -> OrganisationView:
    runtime = request.app.state.runtime
    metadata = command_metadata(request, runtime.settings.province_code, command.centre)
    row, version = await handlers.register(runtime.pool, request.app.state.organisations, command, metadata,
                                           update=update, if_match=if_match_tags(if_match))
    response.headers["ETag"] = etag(version)
    return OrganisationView.model_validate(row)


@router.post("", status_code=201, response_model=OrganisationView,
             summary="Register a sending organisation (publishes SendingOrganisationRegistered)",
             responses={**WRITE, 201: {"description": "registered", "headers": _ETAG},
                        409: {**WRITE[409], "description": "the code is already registered"},
                        422: {**READ[422], "description": "parent unknown or of the wrong kind, no head contact, ..."}})
async def register(command: RegisterOrganisation, request: Request, response: Response,
                   _caller: Principal = province_access("organisations:write")) -> OrganisationView:
    return await _register(request, response, command, update=False)


@router.put("/{code}", response_model=OrganisationView,
            responses={**CONDITIONAL, 200: {"description": "the organisation as changed", "headers": _ETAG}},
            summary="Change an organisation's details (publishes SendingOrganisationRegistered again if they "
                    "changed); If-Match makes the change conditional")
async def update(code: Code, details: OrganisationDetails, request: Request, response: Response,
                 if_match: str | None = Header(None, max_length=200, description=IF_MATCH_DESCRIPTION),
                 _caller: Principal = province_access("organisations:write")) -> OrganisationView:
    return await _register(request, response, RegisterOrganisation(code=code, **details.model_dump()), update=True,
                           if_match=if_match)


@router.get("", response_model=list[OrganisationView], responses=paged(),
            summary="The province's sending organisations by centre and code, filtered by kind, parent or centre; "
                    "paginated (X-Next-Cursor, Link rel=next)")
async def list_organisations(request: Request, response: Response, kind: OrganisationKind | None = None,
                             parent: Code | None = None, centre: Code | None = None,
                             page: Page = Depends(page_params),
                             _caller: Principal = province_access("organisations:read")) -> list[OrganisationView]:
    rows = await views.list_organisations(request.app.state.runtime.pool, kind=kind, parent=parent, centre=centre,
                                          after=page.after(str, str), limit=page.fetch)
    rows = page.answer(request, response, rows, key=lambda r: (r["centre"], r["code"]))
    return [OrganisationView.model_validate(r) for r in rows]


@router.get("/{code}", response_model=OrganisationView,
            responses={200: {"description": "the organisation", "headers": _ETAG}},
            summary="One sending organisation (with ETag)")
async def get_organisation(code: Code, request: Request, response: Response,
                           _caller: Principal = province_access("organisations:read")) -> OrganisationView:
    row = await views.get(request.app.state.runtime.pool, code)
    if row is None:
        raise NotFound(f"no organisation {code} in the province's directory",
                       f"Không có đơn vị {code} trong danh mục của tỉnh", code="organisation-unknown")
    response.headers["ETag"] = etag(await handlers.version(request.app.state.organisations, code))
    return OrganisationView.model_validate(row)
