"""The province's lecturer register over HTTP (no centre in the path: lecturers teach at every centre)."""
from __future__ import annotations

from datetime import date, time
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from ttct.contracts.envelope import Code
from ttct.domain.errors import NotFound
from ttct.http.auth import Principal, province_access
from ttct.http.conventions import READ, WRITE
from ttct.http.pagination import Page, page_params, paged
from ttct.privacy import tenancy

from scheduling.adapters import registry, session_views
from scheduling.domain.lecturers import LecturerKind, RegisterLecturer
from scheduling.entrypoints.http import SessionView, session_key

router = APIRouter(prefix="/v1/lecturers", tags=["lecturers"], responses=READ)


class LecturerView(BaseModel):
    lecturer_id: UUID
    full_name: str
    kind: LecturerKind
    position: str | None
    home_centre: str | None


@router.post("", status_code=201, response_model=LecturerView, responses=WRITE,
             summary="Register a lecturer of the province")
async def register_lecturer(command: RegisterLecturer, request: Request,
                            caller: Principal = province_access("lecturers:write")) -> LecturerView:
    runtime = request.app.state.runtime
    row = await registry.add_lecturer(runtime.pool, runtime.new_id(), command, caller.subject)
    return LecturerView.model_validate(row)


@router.get("", response_model=list[LecturerView], responses=paged(),
            summary="The province's lecturers, by name, filtered; paginated (X-Next-Cursor, Link rel=next)")
async def list_lecturers(request: Request, response: Response, kind: LecturerKind | None = None,
                         home_centre: Code | None = None, page: Page = Depends(page_params),
                         _caller: Principal = province_access("lecturers:read")) -> list[LecturerView]:
    rows = await registry.list_lecturers(request.app.state.runtime.pool, kind.value if kind else None,
                                         home_centre=home_centre, after=page.after(str, UUID), limit=page.fetch)
    rows = page.answer(request, response, rows, key=lambda r: (r["full_name"], r["lecturer_id"]))
    return [LecturerView.model_validate(r) for r in rows]


async def _lecturer(request: Request, lecturer_id: UUID) -> dict:
    row = await registry.get_lecturer(request.app.state.runtime.pool, lecturer_id)
    if row is None:
        raise NotFound(f"no lecturer {lecturer_id} in the province's register",
                       f"Không có giảng viên {lecturer_id} trong danh sách của tỉnh", code="lecturer-unknown")
    return row


@router.get("/{lecturer_id}", response_model=LecturerView, summary="One lecturer")
async def get_lecturer(lecturer_id: UUID, request: Request,
                       _caller: Principal = province_access("lecturers:read")) -> LecturerView:
    return LecturerView.model_validate(await _lecturer(request, lecturer_id))


@router.get("/{lecturer_id}/sessions", response_model=list[SessionView], responses=paged(),
            summary="A lecturer's scheduled sessions at every centre of the province; paginated")
async def lecturer_sessions(lecturer_id: UUID, request: Request, response: Response,
                            page: Page = Depends(page_params),
                            _caller: Principal = province_access("lecturers:read")) -> list[SessionView]:
    await _lecturer(request, lecturer_id)
    with tenancy.province_wide():  # every centre's sessions of this lecturer, by design (row-level security)
        rows = await session_views.list_for_lecturer(request.app.state.runtime.pool, lecturer_id,
                                                     after=page.after(date, time, UUID), limit=page.fetch)
    return [SessionView.model_validate(r) for r in page.answer(request, response, rows, key=session_key)]
