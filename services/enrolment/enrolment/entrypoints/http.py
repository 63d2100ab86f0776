"""Enrolment's HTTP API: thin routes that parse, delegate to the service layer and read views."""
from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ttct.auth import Principal, centre_access
from ttct.contracts.envelope import Code
from ttct.errors import NotFound
from ttct.http import command_metadata

from enrolment.adapters import views
from enrolment.domain.roster import EnrolLearner
from enrolment.service_layer import handlers

router = APIRouter(prefix="/v1/centres/{centre}/classes/{class_id}", tags=["enrolments"])


class EnrolmentView(BaseModel):
    learner_id: UUID
    seat_number: int
    full_name: str
    date_of_birth: date
    organisation_code: str
    organisation_name: str
    enrolled_at: datetime


@router.post("/enrolments", status_code=201, response_model=EnrolmentView,
             summary="Enrol a learner sent by an organisation",
             responses={409: {"description": "class unknown, full, or learner already enrolled"}})
async def enrol(centre: Code, class_id: UUID, command: EnrolLearner, request: Request,
               _caller: Principal = centre_access("enrolments:write")) -> EnrolmentView:
    runtime = request.app.state.runtime
    metadata = command_metadata(request, runtime.settings.province_code, centre)
    event = await handlers.enrol_learner(runtime.pool, request.app.state.rosters, centre, class_id, command,
                                         metadata, runtime.new_id)
    view = await views.enrolment(runtime.pool, centre, class_id, event.learner_id)
    return EnrolmentView.model_validate(view)


@router.get("/enrolments", response_model=list[EnrolmentView], summary="The class's roster, by seat")
async def roster(centre: Code, class_id: UUID, request: Request,
                _caller: Principal = centre_access("enrolments:read")) -> list[EnrolmentView]:
    pool = request.app.state.runtime.pool
    if await views.class_facts(pool, centre, class_id) is None:
        raise NotFound(f"class {class_id} does not exist in this centre",
                       f"Không tìm thấy lớp {class_id} ở trung tâm này")
    return [EnrolmentView.model_validate(r) for r in await views.roster(pool, centre, class_id)]
