"""Scheduling's HTTP API for a centre's classes and their sessions: thin routes that parse, delegate to the
service layer and read views."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from ttct.auth import Principal, centre_access
from ttct.contracts.envelope import Code
from ttct.contracts.types import ProgrammeType
from ttct.conventions import READ, WRITE
from ttct.errors import NotFound
from ttct.http import command_metadata
from ttct.pagination import Page, page_params, paged

from scheduling.adapters import class_views, session_views
from scheduling.domain.classes import CancelClass, OpenClass, PlanClass, ScheduleSession
from scheduling.service_layer import handlers

router = APIRouter(prefix="/v1/centres/{centre}", tags=["classes"], responses=READ)

ClassStatus = Literal["planned", "open", "in_progress", "completed", "cancelled"]


class NewClass(OpenClass):
    status: Literal["open", "planned"] = Field(default="open", description="open for enrolment at once (default), "
                                               "or only put it in the plan")


class ClassView(BaseModel):
    class_id: UUID
    centre: str
    programme_type: ProgrammeType
    programme_code: str | None
    title: str
    capacity: int
    starts_on: date
    ends_on: date
    venue: str
    status: ClassStatus
    planned_sessions: int
    max_absence_ratio: Decimal | None
    excused_absences_count: bool | None
    assessment_scheme: str | None
    cancel_reason: str | None
    opened_at: datetime | None


class SessionView(BaseModel):
    session_id: UUID
    class_id: UUID
    class_title: str
    session_date: date
    starts_at: time
    ends_at: time
    topic: str
    venue: str
    lecturer_id: UUID
    lecturer_name: str
    field_trip_site: str | None
    status: Literal["scheduled", "cancelled"]


def _not_found(class_id: UUID) -> NotFound:
    return NotFound(f"class {class_id} does not exist in this centre", f"Không tìm thấy lớp {class_id} ở trung tâm này")


async def _class_view(request: Request, centre: str, class_id: UUID) -> ClassView:
    view = await class_views.get_class(request.app.state.runtime.pool, centre, class_id)
    if view is None:
        raise _not_found(class_id)
    return ClassView.model_validate(view)


@router.post("/classes", status_code=201, response_model=ClassView,
             responses=WRITE,
             summary="Open a class for enrolment (or, with status planned, put it in the plan)")
async def open_class(centre: Code, command: NewClass, request: Request,
                     _caller: Principal = centre_access("classes:write")) -> ClassView:
    runtime = request.app.state.runtime
    class_id = runtime.new_id()
    metadata = command_metadata(request, runtime.settings.province_code, centre)
    fields = command.model_dump(exclude={"status"})
    if command.status == "planned":
        await handlers.plan_class(request.app.state.classes, runtime.pool, centre, PlanClass(**fields), class_id,
                                  metadata)
    else:
        await handlers.open_class(request.app.state.classes, runtime.pool, centre, OpenClass(**fields), class_id,
                                  metadata)
    return await _class_view(request, centre, class_id)


async def _change(request: Request, centre: str, class_id: UUID, action: str,
                  cancel: CancelClass | None = None) -> ClassView:
    runtime = request.app.state.runtime
    metadata = command_metadata(request, runtime.settings.province_code, centre)
    await handlers.change_class(request.app.state.classes, runtime.pool, centre, class_id, action, metadata, cancel)
    return await _class_view(request, centre, class_id)


@router.post("/classes/{class_id}/open", response_model=ClassView, responses=WRITE,
             summary="Open a planned class for enrolment")
async def open_planned(centre: Code, class_id: UUID, request: Request,
                       _caller: Principal = centre_access("classes:write")) -> ClassView:
    return await _change(request, centre, class_id, "open")


@router.post("/classes/{class_id}/start", response_model=ClassView, responses=WRITE,
             summary="Start teaching an open class")
async def start_class(centre: Code, class_id: UUID, request: Request,
                      _caller: Principal = centre_access("classes:write")) -> ClassView:
    return await _change(request, centre, class_id, "start")


@router.post("/classes/{class_id}/complete", response_model=ClassView, responses=WRITE,
             summary="Complete a class in progress")
async def complete_class(centre: Code, class_id: UUID, request: Request,
                         _caller: Principal = centre_access("classes:write")) -> ClassView:
    return await _change(request, centre, class_id, "complete")


@router.post("/classes/{class_id}/cancel", response_model=ClassView,
             responses=WRITE,
             summary="Cancel a class (any time before it is completed), with a reason")
async def cancel_class(centre: Code, class_id: UUID, command: CancelClass, request: Request,
                       _caller: Principal = centre_access("classes:write")) -> ClassView:
    return await _change(request, centre, class_id, "cancel", command)


@router.get("/classes", response_model=list[ClassView], responses=paged(),
            summary="The centre's classes by start date, filtered; paginated (X-Next-Cursor, Link rel=next)")
async def list_classes(centre: Code, request: Request, response: Response, status: ClassStatus | None = None,
                       programme_type: ProgrammeType | None = None,
                       starts_from: date | None = Query(None, description="classes starting on or after this day"),
                       starts_until: date | None = Query(None, description="classes starting on or before this day"),
                       page: Page = Depends(page_params),
                       _caller: Principal = centre_access("classes:read")) -> list[ClassView]:
    rows = await class_views.list_classes(
        request.app.state.runtime.pool, centre, status, programme_type=programme_type.value if programme_type else None,
        starts_from=starts_from, starts_until=starts_until, after=page.after(date, UUID), limit=page.fetch)
    rows = page.answer(request, response, rows, key=lambda r: (r["starts_on"], r["class_id"]))
    return [ClassView.model_validate(r) for r in rows]


@router.get("/classes/{class_id}", response_model=ClassView, summary="One class")
async def get_class(centre: Code, class_id: UUID, request: Request,
                    _caller: Principal = centre_access("classes:read")) -> ClassView:
    return await _class_view(request, centre, class_id)


@router.post("/classes/{class_id}/sessions", status_code=201, response_model=SessionView, tags=["sessions"],
             responses=WRITE,
             summary="Schedule a session (or a field trip) of a class; a lecturer or venue clash is refused")
async def schedule_session(centre: Code, class_id: UUID, command: ScheduleSession, request: Request,
                           _caller: Principal = centre_access("sessions:write")) -> SessionView:
    runtime = request.app.state.runtime
    session_id = runtime.new_id()
    metadata = command_metadata(request, runtime.settings.province_code, centre)
    await handlers.schedule_session(request.app.state.classes, runtime.pool, centre, class_id, command, session_id,
                                    metadata)
    return SessionView.model_validate(await session_views.get(runtime.pool, class_id, session_id))


@router.post("/classes/{class_id}/sessions/{session_id}/cancel", response_model=SessionView, tags=["sessions"],
             responses=WRITE,
             summary="Cancel a scheduled session; its lecturer and venue are free again")
async def cancel_session(centre: Code, class_id: UUID, session_id: UUID, request: Request,
                         _caller: Principal = centre_access("sessions:write")) -> SessionView:
    runtime = request.app.state.runtime
    metadata = command_metadata(request, runtime.settings.province_code, centre)
    await handlers.cancel_session(request.app.state.classes, runtime.pool, centre, class_id, session_id, metadata)
    return SessionView.model_validate(await session_views.get(runtime.pool, class_id, session_id))


@router.get("/classes/{class_id}/sessions", response_model=list[SessionView], tags=["sessions"], responses=paged(),
            summary="A class's sessions, in time order; paginated (X-Next-Cursor, Link rel=next)")
async def list_sessions(centre: Code, class_id: UUID, request: Request, response: Response,
                        page: Page = Depends(page_params),
                        _caller: Principal = centre_access("sessions:read")) -> list[SessionView]:
    await _class_view(request, centre, class_id)
    rows = await session_views.list_for_class(request.app.state.runtime.pool, class_id,
                                              after=page.after(date, time, UUID), limit=page.fetch)
    return [SessionView.model_validate(r) for r in page.answer(request, response, rows, key=session_key)]


def session_key(row: dict) -> tuple:
    return row["session_date"], row["starts_at"], row["session_id"]
