"""What a merge or dissolution of sending organisations would move in this service (their webhook endpoints and
notices on their way): a preview for the province admin, beside enrolment's. It changes nothing."""
from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from ttct.contracts.envelope import Code
from ttct.http.auth import Principal, province_admin_access
from ttct.http.conventions import READ

from notification.adapters import successions

router = APIRouter(prefix="/v1/organisation-successions", tags=["changes to the map of organisations"],
                   responses=READ)


class Endpoint(BaseModel):
    endpoint_id: UUID
    url: str


class Mail(BaseModel):
    code: str
    endpoints: list[Endpoint]
    pending_notices: int


class SuccessionPreview(BaseModel):
    successor: Mail
    predecessors: list[Mail]
    notes: list[str]


_NOTES = [
    "From the effective day the predecessors' enabled endpoints are disabled (reason organisation-succeeded) and "
    "their notices still pending are re-addressed to the successor's endpoints and contacts, once each.",
    "Notices of events on or after that day are the successor's from the start.",
    "A successor without an enabled endpoint gets them in its feed (GET /v1/organisations/{org}/feed) until it "
    "registers one.",
]


@router.get("/preview", response_model=SuccessionPreview,
            summary="What a merge or dissolution would move here (endpoints, notices on their way); changes nothing")
async def preview(request: Request, successor: Code, predecessor: list[Code] = Query(min_length=1, max_length=100),
                  _caller: Principal = province_admin_access("notifications:read")) -> SuccessionPreview:
    found = await successions.preview(request.app.state.runtime.pool, predecessor, successor)
    return SuccessionPreview.model_validate({**found, "notes": _NOTES})
