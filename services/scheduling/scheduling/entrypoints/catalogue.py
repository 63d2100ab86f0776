"""A centre's programme catalogue and venues over HTTP."""
from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ttct.auth import Principal, centre_access
from ttct.contracts.envelope import Code
from ttct.errors import NotFound

from scheduling.adapters import catalogue, registry
from scheduling.domain.lecturers import RegisterVenue
from scheduling.domain.programmes import DefineProgramme, Programme, decide_define

router = APIRouter(prefix="/v1/centres/{centre}")


@router.get("/programmes", response_model=list[Programme], tags=["programmes"],
            summary="The centre's programme catalogue (seeded with one programme per type on first use)")
async def list_programmes(centre: Code, request: Request,
                          _caller: Principal = centre_access("programmes:read")) -> list[Programme]:
    return await catalogue.list_programmes(request.app.state.runtime.pool, centre)


@router.get("/programmes/{code}", response_model=Programme, tags=["programmes"], summary="One programme")
async def get_programme(centre: Code, code: Code, request: Request,
                        _caller: Principal = centre_access("programmes:read")) -> Programme:
    found = await catalogue.get_programme(request.app.state.runtime.pool, centre, code)
    if found is None:
        raise NotFound(f"the centre's catalogue has no programme {code!r}",
                       f"Danh mục của trung tâm không có chương trình {code!r}", code="programme-unknown")
    return found


@router.put("/programmes/{code}", response_model=Programme, tags=["programmes"],
            summary="Define a programme or change its defaults (applies to classes opened from now on)")
async def define_programme(centre: Code, code: Code, command: DefineProgramme, request: Request,
                           _caller: Principal = centre_access("programmes:write")) -> Programme:
    pool = request.app.state.runtime.pool
    programme = decide_define(code, command, await catalogue.get_programme(pool, centre, code))
    await catalogue.save_programme(pool, centre, programme)
    return programme


class VenueView(BaseModel):
    venue_id: UUID
    centre: str
    name: str
    seats: int | None


@router.post("/venues", status_code=201, response_model=VenueView, tags=["venues"], summary="Register a venue")
async def add_venue(centre: Code, command: RegisterVenue, request: Request,
                    _caller: Principal = centre_access("sessions:write")) -> VenueView:
    runtime = request.app.state.runtime
    return VenueView.model_validate(await registry.add_venue(runtime.pool, runtime.new_id(), centre, command))


@router.get("/venues", response_model=list[VenueView], tags=["venues"], summary="The centre's venues")
async def list_venues(centre: Code, request: Request,
                      _caller: Principal = centre_access("sessions:read")) -> list[VenueView]:
    return [VenueView.model_validate(r) for r in await registry.list_venues(request.app.state.runtime.pool, centre)]
