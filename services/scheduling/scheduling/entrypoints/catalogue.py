"""A centre's programme catalogue and venues over HTTP."""
from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel
from ttct.contracts.envelope import Code
from ttct.contracts.types import ProgrammeType
from ttct.domain.errors import NotFound, PreconditionFailed
from ttct.domain.versions import check_version, if_match_tags
from ttct.http.auth import Principal, centre_access
from ttct.http.conventions import CONDITIONAL, IF_MATCH_DESCRIPTION, READ, WRITE, etag
from ttct.http.pagination import Page, page_params, paged

from scheduling.adapters import catalogue, registry
from scheduling.domain.lecturers import RegisterVenue
from scheduling.domain.programmes import DefineProgramme, Programme, decide_define

router = APIRouter(prefix="/v1/centres/{centre}", responses=READ)
_ETAG = {"ETag": {"description": "the programme's version: send it as If-Match to change it safely",
                  "schema": {"type": "string"}}}


@router.get("/programmes", response_model=list[Programme], tags=["programmes"], responses=paged(),
            summary="The centre's programme catalogue (seeded with one programme per type on first use); paginated")
async def list_programmes(centre: Code, request: Request, response: Response,
                          programme_type: ProgrammeType | None = None, page: Page = Depends(page_params),
                          _caller: Principal = centre_access("programmes:read")) -> list[Programme]:
    rows = await catalogue.list_programmes(request.app.state.runtime.pool, centre,
                                           programme_type=programme_type.value if programme_type else None,
                                           after=page.after(str, str), limit=page.fetch)
    return page.answer(request, response, rows, key=lambda p: (p.programme_type.value, p.code))


def _unknown(code: str) -> NotFound:
    return NotFound(f"the centre's catalogue has no programme {code!r}",
                    f"Danh mục của trung tâm không có chương trình {code!r}", code="programme-unknown")


@router.get("/programmes/{code}", response_model=Programme, tags=["programmes"],
            responses={200: {"description": "the programme", "headers": _ETAG}}, summary="One programme (with ETag)")
async def get_programme(centre: Code, code: Code, request: Request, response: Response,
                        _caller: Principal = centre_access("programmes:read")) -> Programme:
    found = await catalogue.get_versioned(request.app.state.runtime.pool, centre, code)
    if found is None:
        raise _unknown(code)
    response.headers["ETag"] = etag(found[1])
    return found[0]


@router.put("/programmes/{code}", response_model=Programme, tags=["programmes"],
            responses={**CONDITIONAL, 200: {"description": "the programme as defined", "headers": _ETAG}},
            summary="Define a programme or change its defaults (applies to classes opened from now on); "
                    "If-Match makes the change conditional")
async def define_programme(centre: Code, code: Code, command: DefineProgramme, request: Request,
                           response: Response,
                           if_match: str | None = Header(None, max_length=200, description=IF_MATCH_DESCRIPTION),
                           _caller: Principal = centre_access("programmes:write")) -> Programme:
    pool = request.app.state.runtime.pool
    found = await catalogue.get_versioned(pool, centre, code)
    what = f"programme {code!r}"
    check_version(if_match_tags(if_match), found[1] if found else 0, what)
    programme = decide_define(code, command, found[0] if found else None)
    version = await catalogue.save_programme(pool, centre, programme,
                                             expected_version=found[1] if found and if_match else None)
    if version is None:  # changed between the read and the write
        raise PreconditionFailed(f"{what} changed meanwhile; reload it and try again",
                                 f"Chương trình {code!r} vừa được thay đổi; vui lòng tải lại và thử lại")
    response.headers["ETag"] = etag(version)
    return programme


class VenueView(BaseModel):
    venue_id: UUID
    centre: str
    name: str
    seats: int | None


@router.post("/venues", status_code=201, response_model=VenueView, tags=["venues"], responses=WRITE,
             summary="Register a venue")
async def add_venue(centre: Code, command: RegisterVenue, request: Request,
                    _caller: Principal = centre_access("sessions:write")) -> VenueView:
    runtime = request.app.state.runtime
    return VenueView.model_validate(await registry.add_venue(runtime.pool, runtime.new_id(), centre, command))


@router.get("/venues", response_model=list[VenueView], tags=["venues"], responses=paged(),
            summary="The centre's venues, by name; paginated (X-Next-Cursor, Link rel=next)")
async def list_venues(centre: Code, request: Request, response: Response, page: Page = Depends(page_params),
                      _caller: Principal = centre_access("sessions:read")) -> list[VenueView]:
    rows = await registry.list_venues(request.app.state.runtime.pool, centre, after=page.after(str), limit=page.fetch)
    return [VenueView.model_validate(r) for r in page.answer(request, response, rows, key=lambda r: (r["name"],))]
