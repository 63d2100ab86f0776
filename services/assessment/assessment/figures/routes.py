"""The year's figures: one centre's (its staff, `figures:read`) and the whole province's (province admins only)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from ttct.contracts.envelope import Code
from ttct.http.auth import Forbidden, Principal, Role, centre_access, principal, require

from assessment.adapters.facts import VIETNAM
from assessment.figures import tables, tally

router = APIRouter(tags=["figures"])

YEAR = Query(default=None, ge=2000, le=2100, description="the year classes start in; default the current year")


def province_admin(permission: str):
    """A route dependency: a province admin of the token's province (the verifier checks the province)."""

    async def check(caller: Principal = Depends(principal)) -> Principal:
        if caller.role is not Role.province_admin:
            raise Forbidden(f"only the province's admins may {permission.replace(':', ' ')} for the whole province",
                            f"Chỉ quản trị cấp tỉnh mới có quyền {permission} toàn tỉnh")
        require(permission, caller)
        return caller

    return Depends(check)


async def _figures(request: Request, year: int | None, centre: str | None) -> tally.Figures:
    year = year or request.app.state.runtime.clock().astimezone(VIETNAM).year
    rows = await tables.counts(request.app.state.runtime.pool, year, centre)
    return tally.figures(year, centre, rows)


@router.get("/v1/centres/{centre}/figures", response_model=tally.Figures,
            summary="A centre's figures for a year: classes, learner places, pass rate and grades, per programme "
                    "type and per sending organisation")
async def centre_figures(centre: Code, request: Request, year: int | None = YEAR,
                         _caller: Principal = centre_access("figures:read")) -> tally.Figures:
    return await _figures(request, year, centre)


@router.get("/v1/figures", response_model=tally.Figures,
            summary="The province's figures for a year, also per centre (province admins only)",
            responses={403: {"description": "not a province admin"}})
async def province_figures(request: Request, year: int | None = YEAR,
                           _caller: Principal = province_admin("figures:read")) -> tally.Figures:
    return await _figures(request, year, None)
