"""Enrolment's HTTP API for a class's roster: thin routes that parse, delegate to the service layer and read views."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from ttct.contracts import Envelope, LearnerEnrolled
from ttct.contracts.envelope import Code
from ttct.contracts.learner_waitlisted import LearnerWaitlisted
from ttct.contracts.types import DispatchDecision, PlainText
from ttct.domain.errors import NotFound
from ttct.domain.versions import if_match_tags
from ttct.http.auth import Principal, centre_access
from ttct.http.conventions import CONDITIONAL, IF_MATCH_DESCRIPTION, READ, WRITE, etag
from ttct.http.pagination import Page, page_params, paged
from ttct.http.problems import command_metadata
from ttct.papers import labels

from enrolment.adapters import views
from enrolment.domain.roster import EnrolLearner, SetQuota
from enrolment.service_layer import handlers

router = APIRouter(prefix="/v1/centres/{centre}/classes/{class_id}", tags=["enrolments"], responses=READ)
# Quotas live on the class's roster, so their ETag is the roster's version: any enrolment, withdrawal or quota
# change in the class makes an earlier ETag stale.
_ETAG = {"ETag": {"description": "the class roster's version: send it as If-Match to change a quota safely",
                  "schema": {"type": "string"}}}


class EnrolmentView(BaseModel):
    learner_id: UUID
    status: Literal["enrolled", "waitlisted"] = "enrolled"
    seat_number: int | None
    position: int | None = Field(default=None, description="place on the waiting list (1 = next to be promoted)")
    full_name: str
    date_of_birth: date | None = Field(description="null once the learner's personal data were erased")
    organisation_code: str
    organisation_name: str
    enrolled_at: datetime | None = None
    from_waiting_list: bool = False
    dispatch_decision: DispatchDecision | None = Field(
        default=None, description="the organisation's decision sending the learner, if the enrolment cited one")


class WaitingView(BaseModel):
    learner_id: UUID
    position: int
    full_name: str
    date_of_birth: date | None = Field(description="null once the learner's personal data were erased")
    organisation_code: str
    organisation_name: str
    waitlisted_at: datetime
    dispatch_decision: DispatchDecision | None = None


class Promotion(BaseModel):
    learner_id: UUID
    full_name: str
    organisation_code: str
    seat_number: int


class Withdraw(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: PlainText(500) = Field(description="why the learner leaves (đơn xin rút, ...)")


class WithdrawalView(BaseModel):
    learner_id: UUID
    promoted: list[Promotion] = Field(description="learners promoted from the waiting list into the freed seat")


class TransferTo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    target_class_id: UUID


class TransferView(BaseModel):
    learner_id: UUID
    from_class_id: UUID
    to_class_id: UUID
    status: Literal["enrolled", "waitlisted"] = Field(description="the learner's standing in the target class")
    seat_number: int | None
    position: int | None
    promoted: list[Promotion] = Field(description="learners promoted into the seat freed in the source class")


class QuotaView(BaseModel):
    organisation_code: str
    quota: int | None
    seated: int
    waiting: int


class QuotaChange(BaseModel):
    organisation_code: str
    quota: int | None
    promoted: list[Promotion]


async def _promotions(request: Request, events) -> list[Promotion]:
    names = await handlers.promoted_names(request.app.state.runtime.pool, events)  # the events carry them sealed
    return [Promotion(learner_id=e.learner_id, full_name=names[e.learner_id],
                      organisation_code=e.sending_organisation.code, seat_number=e.seat_number)
            for e in handlers.promoted(events)]


def _view(event: LearnerEnrolled | LearnerWaitlisted, envelope: Envelope, command: EnrolLearner) -> EnrolmentView:
    seated = isinstance(event, LearnerEnrolled)
    return EnrolmentView(
        learner_id=event.learner_id, status="enrolled" if seated else "waitlisted",
        seat_number=event.seat_number if seated else None, position=None if seated else event.position,
        full_name=command.full_name, date_of_birth=command.date_of_birth,  # the event has them sealed
        organisation_code=event.sending_organisation.code, organisation_name=event.sending_organisation.name,
        enrolled_at=envelope.occurred_at if seated else None, dispatch_decision=event.dispatch_decision)


def _metadata(request: Request, centre: str):
    return command_metadata(request, request.app.state.runtime.settings.province_code, centre)


@router.post("/enrolments", status_code=201, response_model=EnrolmentView,
             summary="Enrol a learner sent by an organisation (201), or put them on the waiting list (202)",
             responses={202: {"model": EnrolmentView, "description": "the class is full or the organisation's quota "
                                                                    "is used: the learner waits (status waitlisted)"},
                        **WRITE, 409: {**WRITE[409], "description": "class unknown or cancelled, or the learner "
                                                                    "already enrolled or waiting"},
                        422: {**READ[422],
                              "description": "invalid input, or the sending organisation's code is not registered "
                                             "in the province's directory (organisation-not-registered), or the "
                                             "class's programme requires a dispatch decision and none is cited "
                                             "(dispatch-decision-required)"}})
async def enrol(centre: Code, class_id: UUID, command: EnrolLearner, request: Request, response: Response,
                _caller: Principal = centre_access("enrolments:write")) -> EnrolmentView:
    runtime = request.app.state.runtime
    event, envelope = await handlers.enrol_learner(runtime.pool, request.app.state.rosters, centre, class_id, command,
                                                   _metadata(request, centre), runtime.new_id, vault=runtime.vault,
                                                   today=labels.local_day(runtime.clock()))
    if isinstance(event, LearnerWaitlisted):
        response.status_code = 202
    return _view(event, envelope, command)


async def _known(request: Request, centre: str, class_id: UUID) -> None:
    if await views.class_facts(request.app.state.runtime.pool, centre, class_id) is None:
        raise NotFound(f"class {class_id} does not exist in this centre",
                       f"Không tìm thấy lớp {class_id} ở trung tâm này", code="class-unknown")


@router.get("/enrolments", response_model=list[EnrolmentView], responses=paged(),
            summary="The class's roster, by seat, optionally one organisation's learners; paginated "
                    "(X-Next-Cursor, Link rel=next)")
async def roster(centre: Code, class_id: UUID, request: Request, response: Response,
                 organisation: Code | None = Query(None, description="only the learners this organisation sent"),
                 page: Page = Depends(page_params),
                 _caller: Principal = centre_access("enrolments:read")) -> list[EnrolmentView]:
    await _known(request, centre, class_id)
    rows = await views.roster(request.app.state.runtime.pool, centre, class_id, organisation=organisation,
                              after=page.after(int), limit=page.fetch)
    return [EnrolmentView.model_validate(r)
            for r in page.answer(request, response, rows, key=lambda r: (r["seat_number"],))]


@router.get("/waiting-list", response_model=list[WaitingView], responses=paged(),
            summary="The class's waiting list, in order, optionally one organisation's learners (positions count "
                    "the whole list); paginated (X-Next-Cursor, Link rel=next)")
async def waiting_list(centre: Code, class_id: UUID, request: Request, response: Response,
                       organisation: Code | None = Query(None, description="only the learners this organisation sent"),
                       page: Page = Depends(page_params),
                       _caller: Principal = centre_access("enrolments:read")) -> list[WaitingView]:
    await _known(request, centre, class_id)
    rows = await views.waiting_list(request.app.state.runtime.pool, centre, class_id, organisation=organisation,
                                    after=page.after(int), limit=page.fetch)
    return [WaitingView.model_validate(r) for r in page.answer(request, response, rows, key=lambda r: (r["ticket"],))]


@router.post("/enrolments/{learner_id}/withdraw", response_model=WithdrawalView, responses=WRITE,
             summary="Withdraw a learner (from a seat or the waiting list); the first eligible waiting learner is "
                     "promoted into a freed seat")
async def withdraw(centre: Code, class_id: UUID, learner_id: UUID, command: Withdraw, request: Request,
                   _caller: Principal = centre_access("enrolments:write")) -> WithdrawalView:
    runtime = request.app.state.runtime
    events = await handlers.withdraw_learner(runtime.pool, request.app.state.rosters, centre, class_id, learner_id,
                                             command.reason, _metadata(request, centre))
    return WithdrawalView(learner_id=learner_id, promoted=await _promotions(request, events))


@router.post("/enrolments/{learner_id}/transfer", response_model=TransferView, responses=WRITE,
             summary="Transfer a learner to another class of the centre (they wait there if it is full)")
async def transfer(centre: Code, class_id: UUID, learner_id: UUID, command: TransferTo, request: Request,
                   _caller: Principal = centre_access("enrolments:write")) -> TransferView:
    runtime = request.app.state.runtime
    moved = await handlers.transfer_learner(runtime.pool, request.app.state.rosters, centre, class_id, learner_id,
                                            command.target_class_id, _metadata(request, centre))
    return TransferView(learner_id=learner_id, from_class_id=class_id, to_class_id=command.target_class_id,
                        status=moved.status, seat_number=moved.seat_number, position=moved.position,
                        promoted=await _promotions(request, moved.departure))


@router.get("/quotas", response_model=list[QuotaView], tags=["quotas"],
            responses={200: {**paged()[200], "headers": {**paged()[200]["headers"], **_ETAG}}},
            summary="Each organisation's quota (chỉ tiêu) in the class, seats held and learners waiting, by "
                    "organisation code; paginated (X-Next-Cursor, Link rel=next); ETag: the roster's version")
async def quotas(centre: Code, class_id: UUID, request: Request, response: Response,
                 page: Page = Depends(page_params),
                 _caller: Principal = centre_access("enrolments:read")) -> list[QuotaView]:
    await _known(request, centre, class_id)
    # the version before the rows: a change in between makes the ETag stale (a needless 412), never too new
    version = await handlers.version(request.app.state.rosters, class_id)
    rows = await views.quotas(request.app.state.runtime.pool, centre, class_id, after=page.after(str),
                              limit=page.fetch)
    response.headers["ETag"] = etag(version)
    return [QuotaView.model_validate(r)
            for r in page.answer(request, response, rows, key=lambda r: (r["organisation_code"],))]


@router.get("/quotas/{organisation}", response_model=QuotaView, tags=["quotas"],
            responses={200: {"description": "the organisation's quota, seats held and learners waiting (a quota of "
                                            "null: none set)", "headers": _ETAG}},
            summary="One organisation's quota in the class (with ETag)")
async def get_quota(centre: Code, class_id: UUID, organisation: Code, request: Request, response: Response,
                    _caller: Principal = centre_access("enrolments:read")) -> QuotaView:
    await _known(request, centre, class_id)
    found, version = await handlers.quota(request.app.state.rosters, class_id, organisation)
    response.headers["ETag"] = etag(version)
    return QuotaView(organisation_code=found.organisation_code, quota=found.quota, seated=found.seated,
                     waiting=found.waiting)


@router.put("/quotas/{organisation}", response_model=QuotaChange, tags=["quotas"],
            responses={**CONDITIONAL, 200: {"description": "the quota as set", "headers": _ETAG}},
            summary="Set (or with null remove) an organisation's quota in the class; raising it promotes its "
                    "waiting learners; If-Match (the roster's ETag) makes it conditional")
async def set_quota(centre: Code, class_id: UUID, organisation: Code, command: SetQuota, request: Request,
                    response: Response,
                    if_match: str | None = Header(None, max_length=200, description=IF_MATCH_DESCRIPTION),
                    _caller: Principal = centre_access("enrolments:write")) -> QuotaChange:
    runtime = request.app.state.runtime
    events, version = await handlers.set_quota(runtime.pool, request.app.state.rosters, centre, class_id,
                                               organisation, command, _metadata(request, centre),
                                               if_match=if_match_tags(if_match),
                                               today=labels.local_day(runtime.clock()))
    response.headers["ETag"] = etag(version)
    return QuotaChange(organisation_code=organisation, quota=command.quota, promoted=await _promotions(request, events))
