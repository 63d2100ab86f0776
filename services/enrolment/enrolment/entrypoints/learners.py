"""Learners addressed by another system's identifier (party card number, national ID): the registry maps each
identifier to one learner the first time it is given, and keeps only its hash, so the lookup hashes the value."""
from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field
from ttct.contracts.envelope import Code
from ttct.domain.errors import NotFound
from ttct.http.auth import Principal, centre_access
from ttct.http.conventions import READ

from enrolment.adapters import views
from enrolment.domain.roster import ExternalScheme, external_key

router = APIRouter(prefix="/v1/centres/{centre}/learners", tags=["learners"], responses=READ)


class LearnerEnrolment(BaseModel):
    class_id: UUID
    class_title: str
    starts_on: date
    ends_on: date
    status: Literal["enrolled", "waitlisted"]
    seat_number: int | None
    position: int | None = Field(description="place on the waiting list (1 = next to be promoted)")
    organisation_code: str
    organisation_name: str
    since: datetime


class LearnerByExternalId(BaseModel):
    learner_id: UUID = Field(description="the learner's id in this system: stable, the same in every centre")
    scheme: ExternalScheme
    enrolments: list[LearnerEnrolment] = Field(description="seats and waiting-list places in this centre's classes")


@router.get("/by-external-id/{scheme}/{value}", response_model=LearnerByExternalId,
            summary="A learner by another system's identifier (national-id: CCCD; party-card: số thẻ đảng viên), "
                    "with their enrolments at this centre")
async def learner_by_external_id(
        centre: Code, scheme: ExternalScheme, request: Request,
        value: str = Path(pattern=r"^[0-9A-Za-z]{4,20}$", description="the identifier as the other system has it"),
        _caller: Principal = centre_access("enrolments:read")) -> LearnerByExternalId:
    pool = request.app.state.runtime.pool
    learner_id = await views.learner_by_key(pool, external_key(scheme, value))
    enrolments = await views.learner_enrolments(pool, centre, learner_id) if learner_id else []
    if not enrolments:  # a learner of no class here is not this centre's to see
        raise NotFound(f"no learner with that {scheme} holds a seat or waits in this centre's classes",
                       "Không có học viên nào với mã định danh này trong các lớp của trung tâm",
                       code="learner-unknown")
    return LearnerByExternalId(learner_id=learner_id, scheme=scheme,
                               enrolments=[LearnerEnrolment.model_validate(r) for r in enrolments])
