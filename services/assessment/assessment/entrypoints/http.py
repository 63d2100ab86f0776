"""Assessment's HTTP API for scores and conduct: thin routes that parse, delegate to the service layer and read
views."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from ttct.contracts.conduct_rated import ConductRating
from ttct.contracts.envelope import Code
from ttct.contracts.score_recorded import Score
from ttct.contracts.types import GradeBand
from ttct.http.auth import Principal, centre_access
from ttct.http.pagination import Page, page_params, paged
from ttct.http.problems import command_metadata

from assessment.adapters import facts, views
from assessment.domain.results import RateConduct, RecordScore, RecordScores
from assessment.domain.schemes import ComponentName
from assessment.entrypoints.teaching import own_teaching
from assessment.service_layer import handlers

router = APIRouter(prefix="/v1/centres/{centre}/classes/{class_id}", tags=["scores"])


class ResultView(BaseModel):
    learner_id: UUID
    full_name: str
    organisation_code: str
    component: str
    score: Score
    grade_band: GradeBand
    grade_label: str
    scheme_version: str
    recorded_at: datetime


class ConductView(BaseModel):
    learner_id: UUID
    rating: ConductRating
    note: str | None


def _view(row: dict) -> ResultView:
    band = GradeBand(row["grade_band"])
    return ResultView(**{**row, "score": Decimal(row["score"]), "grade_band": band, "grade_label": band.label})


def metadata(request: Request, centre: str):
    return command_metadata(request, request.app.state.runtime.settings.province_code, centre)


@router.post("/scores", status_code=201, response_model=ResultView,
             summary="Record a learner's score in one component (default: the single final score)",
             responses={403: {"description": "a lecturer who teaches no session of this class"},
                        404: {"description": "learner not enrolled in this class"},
                        409: {"description": "class not known yet, cancelled, or its results are final"},
                        422: {"description": "score not 0–10 with one decimal, or not a component of the scheme"}})
async def record_score(centre: Code, class_id: UUID, command: RecordScore, request: Request,
                      caller: Principal = centre_access("scores:write")) -> ResultView:
    await own_teaching(request, caller, centre, class_id)
    await handlers.record_score(request.app.state.assessment, centre, class_id, command, metadata(request, centre))
    row = await views.score(request.app.state.runtime.pool, centre, class_id, command.learner_id, command.component)
    return _view(row)


@router.post("/scores/batch", response_model=list[ResultView],
             summary="Record one component's scores of many learners of the class at once (the class's grid): all "
                     "of them are stored or, if one is refused, none",
             responses={403: {"description": "a lecturer who teaches no session of this class"},
                        404: {"description": "a learner on the list is not enrolled in this class (named)"},
                        409: {"description": "class not known yet, cancelled, or its results are final"},
                        422: {"description": "a score not 0–10 with one decimal (its row named), a learner twice on "
                                             "the list, or a component not of the scheme"}})
async def record_scores(centre: Code, class_id: UUID, command: RecordScores, request: Request,
                        caller: Principal = centre_access("scores:write")) -> list[ResultView]:
    await own_teaching(request, caller, centre, class_id)
    await handlers.record_scores(request.app.state.assessment, centre, class_id, command, metadata(request, centre))
    listed = {s.learner_id for s in command.scores}
    rows = await views.scores(request.app.state.runtime.pool, centre, class_id, component=command.component,
                              organisation=None, after=None, limit=None)
    return [_view(r) for r in rows if r["learner_id"] in listed]


@router.get("/scores", response_model=list[ResultView], responses=paged(),
            summary="The class's recorded scores by learner name and component, optionally one component's or one "
                    "organisation's; paginated (X-Next-Cursor, Link rel=next)")
async def list_scores(centre: Code, class_id: UUID, request: Request, response: Response,
                      component: ComponentName | None = Query(None, description="only this component's scores"),
                      organisation: Code | None = Query(None, description="only the learners this organisation sent"),
                      page: Page = Depends(page_params),
                      _caller: Principal = centre_access("scores:read")) -> list[ResultView]:
    pool = request.app.state.runtime.pool
    if not await facts.class_known(pool, centre, class_id):
        raise handlers.not_found_class(class_id)
    rows = await views.scores(pool, centre, class_id, component=component, organisation=organisation,
                              after=page.after(UUID, str), limit=page.fetch)
    return [_view(r) for r in page.answer(request, response, rows, key=lambda r: (r["learner_id"], r["component"]))]


@router.post("/conduct", response_model=ConductView, summary="Rate a learner's conduct (rèn luyện)",
             responses={404: {"description": "learner not enrolled in this class"},
                        409: {"description": "class not known yet, cancelled, or its results are final"}})
async def rate_conduct(centre: Code, class_id: UUID, command: RateConduct, request: Request,
                      _caller: Principal = centre_access("results:write")) -> ConductView:
    await handlers.rate_conduct(request.app.state.assessment, centre, class_id, command, metadata(request, centre))
    return ConductView(learner_id=command.learner_id, rating=command.rating, note=command.note)
