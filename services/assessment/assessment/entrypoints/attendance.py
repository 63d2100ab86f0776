"""Attendance: one session's whole list in one request, and each learner's standing."""
from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ttct.auth import Principal, centre_access
from ttct.contracts.attendance_recorded import AttendanceStatus
from ttct.contracts.envelope import Code

from assessment.adapters import views
from assessment.domain.attendance import RecordAttendance
from assessment.entrypoints.http import metadata
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
                       409: {"description": "class or session not known yet, cancelled, or results final"},
                       422: {"description": "a malformed list, or a learner twice on it"}})
async def record_attendance(centre: Code, class_id: UUID, session_id: UUID, command: RecordAttendance,
                            request: Request, _caller: Principal = centre_access("attendance:write"),
                            ) -> list[MarkView]:
    await handlers.record_attendance(request.app.state.assessment, centre, class_id, session_id, command,
                                     metadata(request, centre))
    return [MarkView(**r) for r in await views.attendance(request.app.state.runtime.pool, class_id, session_id)]


@router.get("/sessions/{session_id}/attendance", response_model=list[MarkView], summary="A session's attendance")
async def session_attendance(centre: Code, class_id: UUID, session_id: UUID, request: Request,
                             _caller: Principal = centre_access("attendance:read")) -> list[MarkView]:
    await handlers.standings(request.app.state.assessment, centre, class_id)  # 409 for a class not known here
    return [MarkView(**r) for r in await views.attendance(request.app.state.runtime.pool, class_id, session_id)]


@router.get("/attendance", response_model=list[StandingView],
            summary="Each learner's attendance standing and eligibility to sit the final test")
async def standings(centre: Code, class_id: UUID, request: Request,
                    _caller: Principal = centre_access("attendance:read")) -> list[StandingView]:
    return [StandingView(learner_id=l.learner_id, full_name=l.full_name,
                         organisation_code=l.sending_organisation.code, sessions_counted=s.sessions_counted,
                         attended=s.attended, absent=s.absent, excused=s.excused, absences=s.absences,
                         eligible=s.eligible, eligibility_lost_notified=told)
            for l, s, told in await handlers.standings(request.app.state.assessment, centre, class_id)]
