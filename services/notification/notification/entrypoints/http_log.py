"""What an organisation can read: its notices with their delivery status, every delivery attempt, its learners."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from ttct.auth import Principal, organisation_access
from ttct.contracts.envelope import Code

from notification.adapters import delivery_log, emails, notices, views
from notification.domain.names import name_sort_key
from notification.domain.notices import overall_status

router = APIRouter(prefix="/v1/organisations/{org}", tags=["notices and delivery log"])


class DeliveryState(BaseModel):
    endpoint_id: UUID
    url: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None


class EmailState(BaseModel):
    address: str
    status: str
    attempts: int
    delivered_at: datetime | None
    last_error: str | None


class NoticeView(BaseModel):
    position: int
    notice_id: UUID
    notice_type: str
    recipient: str
    created_at: datetime
    status: str
    payload: dict[str, Any]
    deliveries: list[DeliveryState]
    emails: list[EmailState]


class EmailAttemptView(BaseModel):
    attempt_id: int
    attempted_at: datetime
    attempt_no: int
    smtp_code: int | None
    latency_ms: int | None
    error: str | None
    outcome: str
    delivery_id: UUID
    notice_id: UUID
    notice_type: str
    recipient: str
    address: str
    delivery_status: str


class AttemptView(BaseModel):
    attempt_id: int
    attempted_at: datetime
    attempt_no: int
    status_code: int | None
    latency_ms: int | None
    error: str | None
    outcome: str
    delivery_id: UUID
    notice_id: UUID
    endpoint_id: UUID
    endpoint_url: str
    delivery_status: str


class LearnerView(BaseModel):
    class_id: UUID
    class_title: str
    centre: str
    learner_id: UUID
    full_name: str
    date_of_birth: date | None
    seat_number: int | None
    enrolled_at: datetime | None
    score: Decimal | None
    grade_band: str | None
    scored_at: datetime | None


Limit = Query(100, ge=1, le=1000)
Reader = organisation_access("notifications:read")


@router.get("/notices", response_model=list[NoticeView],
            summary="The organisation's notices in the order they were created, each with its delivery status")
async def list_notices(org: Code, request: Request, after: int = Query(0, ge=0, description="position cursor"),
                       limit: int = Limit, _caller: Principal = Reader) -> list[NoticeView]:
    rows = await notices.list_for(request.app.state.runtime.pool, org, after, limit)
    return [NoticeView.model_validate(
        {**r, "status": overall_status([d["status"] for d in [*r["deliveries"], *r["emails"]]])}) for r in rows]


@router.get("/deliveries", response_model=list[AttemptView],
            summary="The delivery log: every attempt to deliver the organisation's notices")
async def list_attempts(org: Code, request: Request, endpoint_id: UUID | None = None, notice_id: UUID | None = None,
                        after: int = Query(0, ge=0, description="attempt_id cursor"),
                        limit: int = Limit, _caller: Principal = Reader) -> list[AttemptView]:
    rows = await delivery_log.attempts(request.app.state.runtime.pool, org, endpoint_id=endpoint_id,
                                       notice_id=notice_id, after=after, limit=limit)
    return [AttemptView.model_validate(r) for r in rows]


@router.get("/email-deliveries", response_model=list[EmailAttemptView],
            summary="The email log: every attempt to email the organisation's notices (and its head's)")
async def list_email_attempts(org: Code, request: Request, notice_id: UUID | None = None,
                              after: int = Query(0, ge=0, description="attempt_id cursor"),
                              limit: int = Limit, _caller: Principal = Reader) -> list[EmailAttemptView]:
    rows = await emails.for_organisation(request.app.state.runtime.pool, org, notice_id, after, limit)
    return [EmailAttemptView.model_validate(r) for r in rows]


@router.get("/learners", response_model=list[LearnerView],
            summary="The learners this organisation sent, by class, sorted the Vietnamese way")
async def list_learners(org: Code, request: Request, class_id: UUID | None = None,
                        _caller: Principal = Reader) -> list[LearnerView]:
    rows = await views.learners(request.app.state.runtime.pool, org, class_id)
    rows.sort(key=lambda r: (r["starts_on"] or date.max, str(r["class_id"]), name_sort_key(r["full_name"])))
    return [LearnerView.model_validate(r) for r in rows]
