"""Scheduling's HTTP API for a centre's classes and their sessions: thin routes that parse, delegate to the
service layer and read views."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, Field
from ttct import centres
from ttct.contracts.class_opened import WhenFull
from ttct.contracts.envelope import Code
from ttct.contracts.types import ProgrammeType
from ttct.domain.errors import NotFound
from ttct.domain.versions import if_match_tags
from ttct.http.auth import Principal, centre_access
from ttct.http.conventions import CONDITIONAL, IF_MATCH_DESCRIPTION, READ, WRITE, etag
from ttct.http.pagination import Page, page_params, paged
from ttct.http.problems import command_metadata
from ttct.papers.labels import local_day

from scheduling.adapters import class_views, session_views
from scheduling.domain.classes import CancelClass, ChangePlan, OpenClass, PlanClass, ScheduleSession
from scheduling.service_layer import handlers

router = APIRouter(prefix="/v1/centres/{centre}", tags=["classes"], responses=READ)

ClassStatus = Literal["planned", "open", "in_progress", "completed", "cancelled"]
_ETAG = {"ETag": {"description": "the class's version (its sessions included): send it as If-Match to change the "
                                 "class or its sessions safely", "schema": {"type": "string"}}}
IfMatch = Header(None, max_length=200, description=IF_MATCH_DESCRIPTION)


def _changed(description: str) -> dict[int | str, dict]:
    """`responses=` of a conditional change of the class: 412 when stale, the new ETag on success."""
    return {**CONDITIONAL, 200: {"description": description, "headers": _ETAG}}


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
    when_full: WhenFull = Field(description="the capacity policy: waiting-list or refuse; enrolment owns the seats "
                                "and any later change of capacity (PUT .../capacity there)")


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


async def class_view(request: Request, centre: str, class_id: UUID) -> ClassView:
    view = await class_views.get_class(request.app.state.runtime.pool, centre, class_id)
    if view is None:
        raise _not_found(class_id)
    return ClassView.model_validate(view)


@router.post("/classes", status_code=201, response_model=ClassView,
             responses={**WRITE, 201: {"description": "the class as opened or planned", "headers": _ETAG}},
             summary="Open a class for enrolment (or, with status planned, put it in the plan); a centre merged "
                     "into another opens none (422 centre-merged, naming its successor)")
async def open_class(centre: Code, command: NewClass, request: Request, response: Response,
                     _caller: Principal = centre_access("classes:write")) -> ClassView:
    runtime = request.app.state.runtime
    centres.check_opens_classes(centre, await centres.successions(runtime.pool, local_day(runtime.clock())))
    class_id = runtime.new_id()
    metadata = command_metadata(request, runtime.settings.province_code, centre)
    fields = command.model_dump(exclude={"status"})
    if command.status == "planned":
        version = await handlers.plan_class(request.app.state.classes, runtime.pool, centre, PlanClass(**fields),
                                            class_id, metadata)
    else:
        version = await handlers.open_class(request.app.state.classes, runtime.pool, centre, OpenClass(**fields),
                                            class_id, metadata)
    response.headers["ETag"] = etag(version)
    return await class_view(request, centre, class_id)


async def _change(request: Request, response: Response, centre: str, class_id: UUID, action: str,
                  if_match: str | None, command: CancelClass | ChangePlan | None = None) -> ClassView:
    runtime = request.app.state.runtime
    metadata = command_metadata(request, runtime.settings.province_code, centre)
    version = await handlers.change_class(request.app.state.classes, runtime.pool, centre, class_id, action,
                                          metadata, command, if_match=if_match_tags(if_match))
    response.headers["ETag"] = etag(version)
    return await class_view(request, centre, class_id)


@router.post("/classes/{class_id}/open", response_model=ClassView, responses=_changed("the class, open"),
             summary="Open a planned class for enrolment; If-Match makes it conditional")
async def open_planned(centre: Code, class_id: UUID, request: Request, response: Response,
                       if_match: str | None = IfMatch,
                       _caller: Principal = centre_access("classes:write")) -> ClassView:
    return await _change(request, response, centre, class_id, "open", if_match)


@router.post("/classes/{class_id}/start", response_model=ClassView, responses=_changed("the class, in progress"),
             summary="Start teaching an open class; If-Match makes it conditional")
async def start_class(centre: Code, class_id: UUID, request: Request, response: Response,
                      if_match: str | None = IfMatch,
                      _caller: Principal = centre_access("classes:write")) -> ClassView:
    return await _change(request, response, centre, class_id, "start", if_match)


@router.post("/classes/{class_id}/complete", response_model=ClassView, responses=_changed("the class, completed"),
             summary="Complete a class in progress; If-Match makes it conditional")
async def complete_class(centre: Code, class_id: UUID, request: Request, response: Response,
                         if_match: str | None = IfMatch,
                         _caller: Principal = centre_access("classes:write")) -> ClassView:
    return await _change(request, response, centre, class_id, "complete", if_match)


@router.post("/classes/{class_id}/cancel", response_model=ClassView, responses=_changed("the class, cancelled"),
             summary="Cancel a class (any time before it is completed), with a reason; If-Match makes it "
                     "conditional")
async def cancel_class(centre: Code, class_id: UUID, command: CancelClass, request: Request, response: Response,
                       if_match: str | None = IfMatch,
                       _caller: Principal = centre_access("classes:write")) -> ClassView:
    return await _change(request, response, centre, class_id, "cancel", if_match, command)


@router.put("/classes/{class_id}/plan", response_model=ClassView, responses=_changed("the class, with its new plan"),
            summary="Plan the class for another number of sessions than its programme does (the centre's decision, "
                    "with its reason); never below the sessions scheduled; If-Match makes it conditional")
async def change_plan(centre: Code, class_id: UUID, command: ChangePlan, request: Request, response: Response,
                      if_match: str | None = IfMatch,
                      _caller: Principal = centre_access("classes:write")) -> ClassView:
    return await _change(request, response, centre, class_id, "plan", if_match, command)


@router.get("/classes", response_model=list[ClassView], responses=paged(),
            summary="The centre's classes by start date, filtered; paginated (X-Next-Cursor, Link rel=next)")
async def list_classes(centre: Code, request: Request, response: Response, status: ClassStatus | None = None,
                       programme_type: ProgrammeType | None = None,
                       starts_from: date | None = Query(None, description="classes starting on or after this day"),
                       starts_until: date | None = Query(None, description="classes starting on or before this day"),
                       with_predecessors: bool = Query(False, description="also the classes of the centres merged "
                                                       "into this one (or made its sites) by today, each under its "
                                                       "own `centre`"),
                       page: Page = Depends(page_params),
                       _caller: Principal = centre_access("classes:read")) -> list[ClassView]:
    pool = request.app.state.runtime.pool
    codes = [centre]
    if with_predecessors:
        codes += await centres.predecessors(pool, centre, local_day(request.app.state.runtime.clock()))
    rows = await class_views.list_classes(
        pool, codes, status, programme_type=programme_type.value if programme_type else None,
        starts_from=starts_from, starts_until=starts_until, after=page.after(date, UUID), limit=page.fetch)
    rows = page.answer(request, response, rows, key=lambda r: (r["starts_on"], r["class_id"]))
    return [ClassView.model_validate(r) for r in rows]


@router.get("/classes/{class_id}", response_model=ClassView,
            responses={200: {"description": "the class", "headers": _ETAG}}, summary="One class (with ETag)")
async def get_class(centre: Code, class_id: UUID, request: Request, response: Response,
                    _caller: Principal = centre_access("classes:read")) -> ClassView:
    # the version first: a change landing in between makes the ETag older than the body (a needless 412 at
    # worst), never newer (which would let a client overwrite a change it has not seen)
    version = await handlers.version(request.app.state.classes, class_id)
    view = await class_view(request, centre, class_id)
    response.headers["ETag"] = etag(version)
    return view


@router.post("/classes/{class_id}/sessions", status_code=201, response_model=SessionView, tags=["sessions"],
             responses={**CONDITIONAL, 201: {"description": "the session as scheduled; ETag: the class's new "
                                                            "version", "headers": _ETAG}},
             summary="Schedule a session (or a field trip) of a class; a lecturer or venue clash is refused; "
                     "If-Match (the class's ETag) makes it conditional")
async def schedule_session(centre: Code, class_id: UUID, command: ScheduleSession, request: Request,
                           response: Response, if_match: str | None = IfMatch,
                           _caller: Principal = centre_access("sessions:write")) -> SessionView:
    runtime = request.app.state.runtime
    session_id = runtime.new_id()
    metadata = command_metadata(request, runtime.settings.province_code, centre)
    version = await handlers.schedule_session(request.app.state.classes, runtime.pool, centre, class_id, command,
                                              session_id, metadata, if_match=if_match_tags(if_match))
    response.headers["ETag"] = etag(version)
    return SessionView.model_validate(await session_views.get(runtime.pool, class_id, session_id))


@router.post("/classes/{class_id}/sessions/{session_id}/cancel", response_model=SessionView, tags=["sessions"],
             responses=_changed("the session, cancelled; ETag: the class's new version"),
             summary="Cancel a scheduled session; its lecturer and venue are free again; If-Match (the class's "
                     "ETag) makes it conditional")
async def cancel_session(centre: Code, class_id: UUID, session_id: UUID, request: Request, response: Response,
                         if_match: str | None = IfMatch,
                         _caller: Principal = centre_access("sessions:write")) -> SessionView:
    runtime = request.app.state.runtime
    metadata = command_metadata(request, runtime.settings.province_code, centre)
    version = await handlers.cancel_session(request.app.state.classes, runtime.pool, centre, class_id, session_id,
                                            metadata, if_match=if_match_tags(if_match))
    response.headers["ETag"] = etag(version)
    return SessionView.model_validate(await session_views.get(runtime.pool, class_id, session_id))


@router.get("/classes/{class_id}/sessions", response_model=list[SessionView], tags=["sessions"], responses=paged(),
            summary="A class's sessions, in time order; paginated (X-Next-Cursor, Link rel=next)")
async def list_sessions(centre: Code, class_id: UUID, request: Request, response: Response,
                        page: Page = Depends(page_params),
                        _caller: Principal = centre_access("sessions:read")) -> list[SessionView]:
    await class_view(request, centre, class_id)
    rows = await session_views.list_for_class(request.app.state.runtime.pool, class_id,
                                              after=page.after(date, time, UUID), limit=page.fetch)
    return [SessionView.model_validate(r) for r in page.answer(request, response, rows, key=session_key)]


def session_key(row: dict) -> tuple:
    return row["session_date"], row["starts_at"], row["session_id"]
