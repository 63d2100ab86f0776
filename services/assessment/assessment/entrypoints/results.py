"""Assessment schemes, finalising a class's results, re-sits, and the final results."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from ttct.contracts.envelope import Code
from ttct.contracts.score_recorded import Score
from ttct.contracts.types import GradeBand
from ttct.domain.errors import NotFound
from ttct.http.auth import Principal, centre_access
from ttct.http.pagination import Page, page_params, paged

from assessment.adapters import schemes, views
from assessment.domain.finalisation import Resit
from assessment.domain.schemes import SchemeCode, SchemeRules
from assessment.entrypoints.http import metadata
from assessment.service_layer import handlers

router = APIRouter(prefix="/v1/centres/{centre}", tags=["results"])


class SchemeView(BaseModel):
    code: str
    version: int
    ref: str
    rules: SchemeRules


class FinalResultView(BaseModel):
    learner_id: UUID
    full_name: str
    organisation_code: str
    eligible: bool
    final_score: Score | None
    grade_band: GradeBand | None
    grade_label: str | None
    passed: bool
    conduct: str | None
    sessions_attended: int
    sessions_counted: int
    certificate_number: str | None
    finalised_at: datetime


class ClassResultsView(BaseModel):
    class_id: UUID
    learners: int
    passed: int
    finalised_at: datetime
    results: list[FinalResultView]


@router.post("/schemes/{code}/versions", status_code=201, response_model=SchemeView,
             summary="Define a new version of an assessment scheme (components, weights, bands, re-sit rule)")
async def define_scheme(centre: Code, code: SchemeCode, rules: SchemeRules, request: Request,
                        _caller: Principal = centre_access("results:write")) -> SchemeView:
    scheme = await schemes.define(request.app.state.runtime.pool, centre, code, rules)
    return SchemeView(code=scheme.code, version=scheme.version, ref=scheme.ref, rules=scheme.rules)


@router.get("/schemes/{code}/versions", response_model=list[SchemeView], responses=paged(),
            summary="Every version of a scheme, oldest first; paginated (X-Next-Cursor, Link rel=next)")
async def scheme_versions(centre: Code, code: SchemeCode, request: Request, response: Response,
                          page: Page = Depends(page_params),
                          _caller: Principal = centre_access("results:read")) -> list[SchemeView]:
    found = await schemes.versions(request.app.state.runtime.pool, centre, code, after=page.after(int),
                                   limit=page.fetch)
    if not found and page.cursor is None:
        raise NotFound(f"no scheme {code} at this centre", f"Trung tâm chưa có hình thức đánh giá {code}",
                       code="scheme-unknown")
    return [SchemeView(code=s.code, version=s.version, ref=s.ref, rules=s.rules)
            for s in page.answer(request, response, found, key=lambda s: (s.version,))]


async def _results(request: Request, centre: str, class_id: UUID) -> ClassResultsView:
    pool = request.app.state.runtime.pool
    summary = await views.finalised_class(pool, centre, class_id)
    if summary is None:
        raise NotFound(f"the results of class {class_id} are not final", f"Kết quả của lớp {class_id} chưa được chốt",
                       code="results-not-finalised")
    rows = await views.final_results(pool, centre, class_id)
    return ClassResultsView(
        class_id=class_id, learners=summary["learners"], passed=summary["passed"],
        finalised_at=summary["finalised_at"],
        results=[FinalResultView(**{**r, "grade_label": GradeBand(r["grade_band"]).label if r["grade_band"] else None})
                 for r in rows])


@router.post("/classes/{class_id}/finalisation", status_code=201, response_model=ClassResultsView,
             summary="Finalise the class's results: a final grade for every eligible learner, certificates for "
                     "those who passed",
             responses={409: {"description": "an eligible learner lacks a score (named), already final, no "
                                             "learners, class not known yet or cancelled"}})
async def finalise(centre: Code, class_id: UUID, request: Request,
                   _caller: Principal = centre_access("results:write")) -> ClassResultsView:
    await handlers.finalise(request.app.state.assessment, centre, class_id, metadata(request, centre))
    return await _results(request, centre, class_id)


@router.get("/classes/{class_id}/results", response_model=ClassResultsView, summary="The class's final results")
async def final_results(centre: Code, class_id: UUID, request: Request,
                        _caller: Principal = centre_access("results:read")) -> ClassResultsView:
    return await _results(request, centre, class_id)


@router.post("/classes/{class_id}/resits", response_model=FinalResultView,
             summary="Record a re-sit score after finalisation; the learner's result is finalised again",
             responses={409: {"description": "not final yet, not eligible, passed (scheme allows no "
                                             "improvement), or re-sits used up"}})
async def resit(centre: Code, class_id: UUID, command: Resit, request: Request,
                _caller: Principal = centre_access("results:write")) -> FinalResultView:
    await handlers.resit(request.app.state.assessment, centre, class_id, command, metadata(request, centre))
    return next(r for r in (await _results(request, centre, class_id)).results if r.learner_id == command.learner_id)
