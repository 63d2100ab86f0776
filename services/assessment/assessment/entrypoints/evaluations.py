"""Course evaluation over HTTP: the centre enters each learner's anonymous survey form (or issues one-time codes
with which the learners fill it in themselves, on a public route) and its lessons-learned review (rút kinh
nghiệm) of a class, and reads what they add up to per class, lecturer and programme type."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from ttct.contracts.envelope import Code
from ttct.contracts.types import ProgrammeType
from ttct.domain.errors import NotFound
from ttct.domain.names import name_sort_key
from ttct.http.auth import Principal, centre_access
from ttct.http.conventions import WRITE

from assessment.adapters import evaluations, paper_views
from assessment.adapters.facts import VIETNAM
from assessment.domain.evaluation import EvaluateCourse, IssueEvaluationCodes, ReviewClass
from assessment.entrypoints.http import metadata
from assessment.figures.routes import YEAR, province_admin
from assessment.service_layer import evaluation

router = APIRouter(tags=["course evaluation"])
public = APIRouter(prefix="/v1/public", tags=["public"])
CLASS = "/v1/centres/{centre}/classes/{class_id}"
EvaluationCode = Path(min_length=8, max_length=40, pattern=r"^[A-Za-z0-9 -]+$",
                      description="the one-time code printed on the learner's slip (case, spaces and dashes "
                                  "do not matter)")


class EvaluationEntered(BaseModel):
    evaluation_id: UUID
    class_id: UUID


class LecturerAverage(BaseModel):
    lecturer_id: UUID
    full_name: str | None
    answers: int
    average: Decimal


class Review(BaseModel):
    strengths: str | None
    shortcomings: str | None
    lessons: str
    reviewed_at: datetime


class ClassEvaluation(BaseModel):
    class_id: UUID
    forms: int
    content_answers: int
    content: Decimal | None
    organisation_answers: int
    organisation: Decimal | None
    lecturers: list[LecturerAverage]
    comments: list[str]
    review: Review | None


@router.post(f"{CLASS}/evaluations", status_code=201, response_model=EvaluationEntered, responses=WRITE,
             summary="Enter one learner's anonymous evaluation form of the class (phiếu khảo sát): ratings 1–5 of "
                     "the content, the organisation and each lecturer who taught it, and a comment; one form per "
                     "learner at most")
async def enter_evaluation(centre: Code, class_id: UUID, command: EvaluateCourse, request: Request,
                           _caller: Principal = centre_access("results:write")) -> EvaluationEntered:
    evaluation_id = await evaluation.evaluate(request.app.state.runtime, request.app.state.evaluations, centre,
                                              class_id, command, metadata(request, centre))
    return EvaluationEntered(evaluation_id=evaluation_id, class_id=class_id)


class EvaluationCodes(BaseModel):
    class_id: UUID
    codes: list[str]


class LecturerToRate(BaseModel):
    lecturer_id: UUID
    full_name: str


class EvaluationForm(BaseModel):
    class_title: str
    centre: str
    lecturers: list[LecturerToRate]


@router.post(f"{CLASS}/evaluation-codes", status_code=201, response_model=EvaluationCodes, responses=WRITE,
             summary="Issue one-time codes for the class's learners to fill in their evaluation form themselves "
                     "(shown once: print them on slips and hand them out at random); never more than the "
                     "learners without a form or a code")
async def issue_evaluation_codes(centre: Code, class_id: UUID, command: IssueEvaluationCodes, request: Request,
                                 _caller: Principal = centre_access("results:write")) -> EvaluationCodes:
    issued = await evaluation.issue_codes(request.app.state.runtime, request.app.state.evaluations, centre, class_id,
                                          command)
    return EvaluationCodes(class_id=class_id, codes=issued)


@public.get("/evaluation-forms/{code}", response_model=EvaluationForm,
            responses={404: {"description": "no such code"}, 409: {"description": "the code has been used"}},
            summary="The evaluation form a learner's code opens: the class and the lecturers to rate (public, "
                    "no token; nothing about any learner)")
async def evaluation_form(request: Request, code: str = EvaluationCode) -> EvaluationForm:
    centre, facts, lecturers = await evaluation.class_of_code(request.app.state.runtime, code)
    return EvaluationForm(class_title=facts.title, centre=centre, lecturers=[
        LecturerToRate(lecturer_id=k, full_name=v) for k, v in sorted(lecturers.items(),
                                                                      key=lambda kv: name_sort_key(kv[1]))])


@public.post("/evaluation-forms/{code}", status_code=201, response_model=EvaluationEntered,
             responses={**WRITE, 404: {"description": "no such code"}, 409: {"description": "the code has been used"}},
             summary="A learner sends their own anonymous evaluation form with their one-time code (public, no "
                     "token); the code is then used up")
async def send_evaluation_form(command: EvaluateCourse, request: Request,
                               code: str = EvaluationCode) -> EvaluationEntered:
    rt = request.app.state.runtime
    evaluation_id, class_id = await evaluation.evaluate_with_code(rt, request.app.state.evaluations, code, command,
                                                                  lambda centre: metadata(request, centre))
    return EvaluationEntered(evaluation_id=evaluation_id, class_id=class_id)


@router.put(f"{CLASS}/review", response_model=Review, responses=WRITE,
            summary="Record the centre's lessons-learned review of the class (rút kinh nghiệm); a later one "
                    "replaces it")
async def review_class(centre: Code, class_id: UUID, command: ReviewClass, request: Request,
                       _caller: Principal = centre_access("results:write")) -> Review:
    await evaluation.review(request.app.state.runtime, request.app.state.evaluations, centre, class_id, command,
                            metadata(request, centre))
    return Review(**(await evaluations.class_summary(request.app.state.runtime.pool, centre, class_id))["review"])


@router.get(f"{CLASS}/evaluation", response_model=ClassEvaluation,
            responses={404: {"description": "no such class at this centre"}},
            summary="What the class's evaluation forms add up to: how many, each question's average, each "
                    "lecturer's, the comments, and the centre's review")
async def class_evaluation(centre: Code, class_id: UUID, request: Request,
                           _caller: Principal = centre_access("results:read")) -> ClassEvaluation:
    pool = request.app.state.runtime.pool
    if await paper_views.class_header(pool, centre, class_id) is None:  # absent, as on the class's other reads
        raise NotFound(f"class {class_id} is not known at this centre",
                       f"Không tìm thấy lớp {class_id} ở trung tâm này", code="class-unknown")
    found = await evaluations.class_summary(pool, centre, class_id)
    found["lecturers"].sort(key=lambda r: name_sort_key(r["full_name"] or ""))
    return ClassEvaluation(class_id=class_id, **found)


class ClassLine(BaseModel):
    class_id: UUID
    centre: str
    title: str
    programme_type: ProgrammeType | None
    forms: int
    content: Decimal | None
    organisation: Decimal | None
    lecturers: Decimal | None
    reviewed: bool


class LecturerLine(LecturerAverage):
    classes: int


class ProgrammeLine(BaseModel):
    programme_type: ProgrammeType | None
    classes: int
    forms: int
    content: Decimal | None
    organisation: Decimal | None


class EvaluationFigures(BaseModel):
    year: int
    centre: str | None
    classes: list[ClassLine]
    lecturers: list[LecturerLine]
    programmes: list[ProgrammeLine]


async def _figures(request: Request, year: int | None, centre: str | None) -> EvaluationFigures:
    pool = request.app.state.runtime.pool
    year = year or request.app.state.runtime.clock().astimezone(VIETNAM).year
    lecturers = sorted(await evaluations.by_lecturer(pool, year, centre),
                       key=lambda r: (name_sort_key(r["full_name"] or ""), str(r["lecturer_id"])))
    return EvaluationFigures(year=year, centre=centre, classes=await evaluations.by_class(pool, year, centre),
                             lecturers=lecturers, programmes=await evaluations.by_programme(pool, year, centre))


@router.get("/v1/centres/{centre}/evaluation-figures", response_model=EvaluationFigures,
            summary="The centre's course evaluations for a year (classes starting in it): per class, per lecturer "
                    "and per programme type, the forms and their average ratings")
async def centre_evaluation_figures(centre: Code, request: Request, year: int | None = YEAR,
                                    _caller: Principal = centre_access("figures:read")) -> EvaluationFigures:
    return await _figures(request, year, centre)


@router.get("/v1/evaluation-figures", response_model=EvaluationFigures,
            responses={403: {"description": "not a province admin"}},
            summary="The province's course evaluations for a year, every centre's (province admins only)")
async def province_evaluation_figures(request: Request, year: int | None = YEAR,
                                      _caller: Principal = province_admin("figures:read")) -> EvaluationFigures:
    return await _figures(request, year, None)
