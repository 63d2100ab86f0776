"""What an organisation can read: its notices with their delivery status, every delivery attempt, its learners."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from ttct.contracts.envelope import Code
from ttct.http.auth import Principal, organisation_access
from ttct.http.pagination import Page, page_params, paged

from notification.adapters import delivery_log, emails, notices, views
from notification.adapters.committed_order import EMAIL_ATTEMPTS, WEBHOOK_ATTEMPTS, CommittedOrder
from ttct.domain.names import name_sort_key
from notification.domain.notices import overall_status
from notification.entrypoints.successors import taken_over

router = APIRouter(prefix="/v1/organisations/{org}", tags=["notices and delivery log"])


class DeliveryState(BaseModel):
    endpoint_id: UUID
    url: str | None = Field(description="null for an endpoint of another organisation the caller may not see (a "
                                        "notice re-addressed to it from an organisation merged into it)")
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
    starts_on: date | None = None
    ends_on: date | None = None


Reader = organisation_access("notifications:read")
Outcome = Literal["delivered", "retry", "failed", "endpoint_gone", "interrupted"]


async def _after(pool, page: Page, after: int | None, log: CommittedOrder) -> int:
    """Where an attempts log resumes: the standard cursor (a log position, in the committed order), else the
    deprecated `after` (the attempt_id last seen, as clients written before cursors send it), placed so that
    nothing is skipped."""
    key = page.after(int)
    if key:
        return key[0]
    if not after:
        return 0
    await log.sequence_committed(pool)
    return await log.position_after(pool, after)


def _legacy_after(description: str) -> Any:
    return Query(None, ge=0, deprecated=True, description=f"deprecated, use cursor: {description}")


@router.get("/notices", response_model=list[NoticeView], responses=paged(),
            summary="The organisation's notices in the order they were created, each with its delivery status, "
                    "filtered; paginated (X-Next-Cursor, Link rel=next)")
async def list_notices(org: Code, request: Request, response: Response,
                       notice_type: str | None = Query(None, pattern=r"^[a-z_]+(\.[a-z_]+)*$", max_length=100,
                                                       description="only notices of this kind, e.g. "
                                                                   "enrolment.confirmed"),
                       class_id: UUID | None = Query(None, description="only notices about this class"),
                       learner_id: UUID | None = Query(None, description="only notices about this learner"),
                       recipient: Literal["organisation", "head", "digest"] | None = Query(
                           None, description="only notices for the organisation itself, or for its head"),
                       page: Page = Depends(page_params),
                       after: int | None = _legacy_after("the `position` of the last notice seen"),
                       _caller: Principal = Reader) -> list[NoticeView]:
    pool = request.app.state.runtime.pool
    await taken_over(request, org)  # a notice re-addressed to it shows its deliveries to a predecessor's endpoint
    # the cursor carries the committed order (feed position); the deprecated `after`, a notice's `position`
    key = page.after(int)
    start = key[0] if key else await notices.feed_position_of(pool, org, after) if after else 0
    rows = await notices.list_for(pool, org, start, page.fetch, notice_type=notice_type, class_id=class_id,
                                  learner_id=learner_id, recipient=recipient)
    return [NoticeView.model_validate(
        {**r, "status": overall_status([d["status"] for d in [*r["deliveries"], *r["emails"]]])})
        for r in page.answer(request, response, rows, key=lambda r: (r["feed_position"],))]


@router.get("/deliveries", response_model=list[AttemptView], responses=paged(),
            summary="The delivery log: every attempt to deliver the organisation's notices, in the order they were "
                    "made (committed), filtered; "
                    "paginated (X-Next-Cursor, Link rel=next)")
async def list_attempts(org: Code, request: Request, response: Response, endpoint_id: UUID | None = None,
                        notice_id: UUID | None = None, outcome: Outcome | None = None,
                        page: Page = Depends(page_params),
                        after: int | None = _legacy_after("the `attempt_id` of the last attempt seen"),
                        _caller: Principal = Reader) -> list[AttemptView]:
    pool = request.app.state.runtime.pool
    rows = await delivery_log.attempts(pool, org, endpoint_id=endpoint_id, notice_id=notice_id, outcome=outcome,
                                       after=await _after(pool, page, after, WEBHOOK_ATTEMPTS), limit=page.fetch)
    return [AttemptView.model_validate(r)
            for r in page.answer(request, response, rows, key=lambda r: (r["log_position"],))]


@router.get("/email-deliveries", response_model=list[EmailAttemptView], responses=paged(),
            summary="The email log: every attempt to email the organisation's notices (and its head's), oldest "
                    "first, filtered; paginated (X-Next-Cursor, Link rel=next)")
async def list_email_attempts(org: Code, request: Request, response: Response, notice_id: UUID | None = None,
                              outcome: Outcome | None = None, page: Page = Depends(page_params),
                              after: int | None = _legacy_after("the `attempt_id` of the last attempt seen"),
                              _caller: Principal = Reader) -> list[EmailAttemptView]:
    pool = request.app.state.runtime.pool
    rows = await emails.for_organisation(pool, org, notice_id, await _after(pool, page, after, EMAIL_ATTEMPTS),
                                         page.fetch, outcome)
    return [EmailAttemptView.model_validate(r)
            for r in page.answer(request, response, rows, key=lambda r: (r["log_position"],))]


def _learner_order(row: dict) -> tuple:
    return row["starts_on"] or date.max, str(row["class_id"]), name_sort_key(row["full_name"]), str(row["learner_id"])


@router.get("/learners", response_model=list[LearnerView], responses=paged(),
            summary="The learners this organisation sent, by class, sorted the Vietnamese way; paginated "
                    "(X-Next-Cursor, Link rel=next)")
async def list_learners(org: Code, request: Request, response: Response, class_id: UUID | None = None,
                        page: Page = Depends(page_params), _caller: Principal = Reader) -> list[LearnerView]:
    # The Vietnamese name order is Python's (name_sort_key), so the page is cut from the sorted list; the cursor
    # names the last (class, learner), never the learner's name, and resumes after that row's place.
    rows = sorted(await views.learners(request.app.state.runtime.pool, await taken_over(request, org),
                                                class_id), key=_learner_order)
    after = page.after(UUID, UUID)
    if after is not None:
        last = next((r for r in rows if (r["class_id"], r["learner_id"]) == after), None)
        rows = [r for r in rows if _learner_order(r) > _learner_order(last)] if last else []
    rows = page.answer(request, response, rows[:page.fetch], key=lambda r: (r["class_id"], r["learner_id"]))
    return [LearnerView.model_validate(r) for r in rows]
