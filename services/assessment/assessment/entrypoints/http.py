"""Assessment's HTTP API: thin routes that parse, delegate to the service layer and read views."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ttct.auth import Principal, centre_access
from ttct.contracts.envelope import Code
from ttct.contracts.score_recorded import Score
from ttct.contracts.types import GradeBand
from ttct.errors import NotFound
from ttct.http import command_metadata

from assessment.adapters import views
from assessment.domain.results import RecordScore
from assessment.service_layer import handlers

router = APIRouter(prefix="/v1/centres/{centre}/classes/{class_id}", tags=["scores"])


class ResultView(BaseModel):
    learner_id: UUID
    full_name: str
    organisation_code: str
    score: Score
    grade_band: GradeBand
    grade_label: str
    recorded_at: datetime


def _view(row: dict) -> ResultView:
    band = GradeBand(row["grade_band"])
    return ResultView(**{**row, "score": Decimal(row["score"]), "grade_band": band, "grade_label": band.label})


@router.post("/scores", status_code=201, response_model=ResultView, summary="Record a learner's final score",
             responses={404: {"description": "learner not enrolled in this class"},
                        422: {"description": "score not 0–10 with one decimal"}})
async def record_score(centre: Code, class_id: UUID, command: RecordScore, request: Request,
                      _caller: Principal = centre_access("scores:write")) -> ResultView:
    runtime = request.app.state.runtime
    metadata = command_metadata(request, runtime.settings.province_code, centre)
    await handlers.record_score(runtime.pool, request.app.state.results, centre, class_id, command, metadata)
    return _view(await views.result(runtime.pool, centre, class_id, command.learner_id))


@router.get("/scores", response_model=list[ResultView], summary="The class's recorded scores")
async def list_scores(centre: Code, class_id: UUID, request: Request,
                     _caller: Principal = centre_access("scores:read")) -> list[ResultView]:
    pool = request.app.state.runtime.pool
    if not await views.class_known(pool, centre, class_id):
        raise NotFound(f"no learners of class {class_id} are known here",
                       f"Chưa có học viên nào của lớp {class_id}")
    return [_view(r) for r in await views.results(pool, centre, class_id)]
