"""Attendance: one session's whole list in one request, and each learner's standing."""
from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from ttct.contracts.attendance_recorded import AttendanceStatus
from ttct.contracts.envelope import Code
from ttct.http.auth import Principal, centre_access
from ttct.http.pagination import Page, page_params, paged

from assessment.adapters import facts, views
from assessment.domain.attendance import RecordAttendance
from assessment.domain.facts import class_unknown
from assessment.entrypoints.http import metadata
from assessment.entrypoints.teaching import own_teaching
from assessment.service_layer import handlers

router = APIRouter(prefix="/v1/centres/{centre}/classes/{class_id}", tags=["attendance"])


class MarkView(BaseModel):
    learner_id: UUID
    status: AttendanceStatus


class StandingView(BaseModel):
    learner_id: UUID
    full_name: str
    organisation_code: str
    sessions_counted: int
    attended: int
    absent: int
    excused: int
    absences: int
    eligible: bool
    eligibility_lost_notified: bool


@router.put("/sessions/{session_id}/attendance", response_model=list[MarkView],
            summary="Record a session's attendance: the whole list (present, absent, excused)",
            responses={404: {"description": "a learner on the list is not enrolled in the class (named)"},
                       403: {"description": "a lecturer who does not teach this session"},
                       409: {"description": "class or session not known yet, cancelled, or results final"},
                       422: {"description": "a malformed list, or a learner twice on it"}})
async def record_attendance(centre: Code, class_id: UUID, session_id: UUID, command: RecordAttendance,
                            request: Request, caller: Principal = centre_access("attendance:write"),
                            ) -> list[MarkView]:
    await own_teaching(request, caller, centre, class_id, session_id)
    await handlers.record_attendance(request.app.state.assessment, centre, class_id, session_id, command,
                                     metadata(request, centre))
    return [MarkView(**r) for r in await views.attendance(request.app.state.runtime.pool, class_id, session_id)]


@router.get("/sessions/{session_id}/attendance", response_model=list[MarkView], responses=paged(),
            summary="A session's attendance by learner id, optionally only one status; paginated (X-Next-Cursor, "
                    "Link rel=next)")
async def session_attendance(centre: Code, class_id: UUID, session_id: UUID, request: Request, response: Response,
                             status: AttendanceStatus | None = Query(None, description="only learners marked so"),
                             page: Page = Depends(page_params),
                             _caller: Principal = centre_access("attendance:read")) -> list[MarkView]:
    pool = request.app.state.runtime.pool
    if not await facts.class_heard_of(pool, centre, class_id):  # 409 for a class not known here yet
        raise class_unknown(class_id)
    rows = await views.attendance(pool, class_id, session_id, status=status,
                                  after=page.after(UUID), limit=page.fetch)
    return [MarkView(**r) for r in page.answer(request, response, rows, key=lambda r: (r["learner_id"],))]


@router.get("/attendance", response_model=list[StandingView], responses=paged(),
            summary="Each learner's attendance standing and eligibility to sit the final test, by name, optionally "
                    "only the eligible (or ineligible) ones; paginated (X-Next-Cursor, Link rel=next)")
async def standings(centre: Code, class_id: UUID, request: Request, response: Response,
                    eligible: bool | None = Query(None, description="only learners who may (true) or may no longer "
                                                                    "(false) sit the final test"),
                    page: Page = Depends(page_params),
                    _caller: Principal = centre_access("attendance:read")) -> list[StandingView]:
    # A standing is computed from the class's whole attendance stream, so the page is cut from the computed list
    # (in the learners' name order); the cursor names the last learner, never their name.
    listed = await handlers.standings(request.app.state.assessment, centre, class_id)
    after = page.after(UUID)
    later = await views.learners_after(request.app.state.runtime.pool, centre, class_id, after[0]) if after else None
    rows = [StandingView(learner_id=l.learner_id, full_name=l.full_name,
                         organisation_code=l.sending_organisation.code, sessions_counted=s.sessions_counted,
                         attended=s.attended, absent=s.absent, excused=s.excused, absences=s.absences,
                         eligible=s.eligible, eligibility_lost_notified=told)
            for l, s, told in listed
            if (later is None or l.learner_id in later) and (eligible is None or s.eligible == eligible)]
    return page.answer(request, response, rows[:page.fetch], key=lambda v: (v.learner_id,))
