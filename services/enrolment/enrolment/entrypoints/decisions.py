"""The dispatch decisions (quyết định cử đi học) cited by a centre's enrolments over HTTP: each decision with the
learners it sent, in whichever of the centre's classes. A decision is recorded by the enrolments that cite it (one
learner, an import's rows, a JSON batch): there is nothing to create beforehand."""
from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from ttct.contracts.envelope import Code
from ttct.http.auth import Principal, centre_access
from ttct.http.conventions import READ

from enrolment.adapters import decisions

router = APIRouter(prefix="/v1/centres/{centre}/dispatch-decisions", tags=["dispatch decisions"], responses=READ)


class SentLearner(BaseModel):
    class_id: UUID
    class_title: str
    learner_id: UUID
    full_name: str
    status: Literal["enrolled", "waitlisted"]
    seat_number: int | None


class DecisionView(BaseModel):
    organisation_code: str
    organisation_name: str
    number: str
    signed_on: date
    signer: str
    learners: list[SentLearner] = Field(description="the learners it sent who hold a seat or wait in the centre's "
                                                    "classes, by class then seat")


@router.get("", response_model=list[DecisionView],
            summary="The dispatch decisions cited by the centre's enrolments, by organisation, date and number, each "
                    "with the learners it sent (in any of the centre's classes)")
async def list_decisions(centre: Code, request: Request,
                         organisation: Code | None = Query(None, description="only this organisation's decisions"),
                         number: str | None = Query(None, max_length=50, description="only the decision numbered so"),
                         _caller: Principal = centre_access("enrolments:read")) -> list[DecisionView]:
    rows = await decisions.cited(request.app.state.runtime.pool, centre, organisation=organisation, number=number)
    return [DecisionView.model_validate(r) for r in rows]
