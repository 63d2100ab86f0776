"""Erasure of a learner's personal data on request (issue 7): centre staff of the learner's centre or the
province administrator; logged with the requester and the reason in the personal-data-access log."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from ttct.contracts.envelope import Code
from ttct.contracts.types import PlainText
from ttct.http.auth import Forbidden, Principal, Role, centre_access
from ttct.http.conventions import WRITE
from ttct.http.problems import command_metadata

from enrolment.service_layer.erasure import erase_learner

router = APIRouter(prefix="/v1/centres/{centre}/learners", tags=["learners"], responses=WRITE)


class ErasePersonalData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: PlainText(500) = Field(
                        description="why (e.g. the learner's request of <date>, ref. <number>): kept in the access "
                                    "log; name no one in it")


class ErasureView(BaseModel):
    learner_id: UUID
    erased_at: datetime = Field(description="when the learner's data were first erased")
    key_destroyed: bool = Field(description="false when a previous request had already destroyed the key")


@router.post("/{learner_id}/erasure", response_model=ErasureView,
             summary="Erase a learner's personal data (crypto-shredding): their key is destroyed, every service "
                     "shows them as erased; seats, scores, results and certificate numbers stay")
async def erase(centre: Code, learner_id: UUID, command: ErasePersonalData, request: Request,
                caller: Principal = centre_access("enrolments:write")) -> ErasureView:
    if caller.role not in (Role.centre_staff, Role.province_admin):
        raise Forbidden("only the centre's staff or the province administrator may erase a learner's data",
                        "Chỉ cán bộ trung tâm hoặc quản trị viên cấp tỉnh được xoá dữ liệu của học viên")
    runtime = request.app.state.runtime
    request.state.audit_reason = command.reason  # the access log records it with the caller
    done = await erase_learner(runtime.pool, runtime.vault, request.app.state.erasures, centre, learner_id,
                               command_metadata(request, runtime.settings.province_code, centre), runtime.clock)
    return ErasureView(learner_id=done.learner_id, erased_at=done.erased_at, key_destroyed=done.key_destroyed)
