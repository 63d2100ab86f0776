"""The learners' own evaluation form (no sign-in): the centre hands each learner a slip with a one-time code at
random; the learner opens /evaluate (or the slip's address), types the code and answers. The code says which
class the form is about and nothing about who sent it; assessment's public routes decide whether it is good and
use it up with the form."""
from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, sessions
from console.adapters.api import Problem, public_get, public_post
from console.entrypoints.evaluation import RATINGS, form_body, form_fields, form_messages
from console.entrypoints.forms import FormErrors
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{6,38}[A-Za-z0-9]")  # as printed: ABCDE-FGHJK, any case


def _code_page(request: Request, *, code: str = "", said: str | None = None, status: int = 200):
    sessions.public_csrf(request)
    return render(request, "survey_code.html", status=status, code=code, said=said)


def _said(problem: Problem) -> str:
    return problem.detail_vi if i18n.current.get() == "vi" and problem.detail_vi else problem.detail


@router.get("/evaluate")
async def ask(request: Request, code: str = ""):
    code = code.strip()
    if CODE.fullmatch(code):
        return RedirectResponse(f"/evaluate/{code.upper()}", status_code=303)
    said = _("Enter the code as printed on your slip: ten letters and digits, e.g. ABCDE-FGHJK") if code else None
    return _code_page(request, code=code, said=said, status=422 if code else 200)


@router.get("/evaluate/thanks")
async def thanks(request: Request):
    return render(request, "survey_thanks.html")


async def _opened(request: Request, code: str) -> dict:
    """What the code opens (the class and the lecturers to rate); Problem if it opens nothing."""
    return await public_get(request.app.state.http, request.app.state.bases, "assessment",
                            f"/public/evaluation-forms/{code}")


async def _form(request: Request, code: str, *, typed: dict[str, str] | None = None,
                errors: FormErrors | None = None, status: int = 200):
    """The form the code opens, or the code page saying why it opens none (unknown, used)."""
    if not CODE.fullmatch(code):
        return _code_page(request, code=code, said=_("Enter the code as printed on your slip: ten letters and "
                                                     "digits, e.g. ABCDE-FGHJK"), status=404)
    try:
        found = await _opened(request, code)
    except Problem as problem:
        if problem.status not in (404, 409, 422):
            raise
        return _code_page(request, code=code, said=_said(problem), status=problem.status)
    sessions.public_csrf(request)
    lecturers = found["lecturers"]
    return render(request, "survey.html", status=status, code=code, found=found, lecturers=lecturers,
                  ratings=RATINGS, form=typed or {}, errors=errors or FormErrors(form_fields(lecturers)))


@router.get("/evaluate/{code}")
async def form_page(request: Request, code: str):
    return await _form(request, code)


@router.post("/evaluate/{code}")
async def send(request: Request, code: str):
    form = {k: str(v) for k, v in (await sessions.check_csrf(request)).items()}
    if not CODE.fullmatch(code):
        return await _form(request, code)
    lecturers: list[dict] = []
    try:
        lecturers = (await _opened(request, code))["lecturers"]
        await public_post(request.app.state.http, request.app.state.bases, "assessment",
                          f"/public/evaluation-forms/{code}", form_body(form, lecturers))
    except Problem as problem:
        if problem.status in (404, 409):  # unknown, or used (sent twice: the form was kept once)
            return _code_page(request, code=code, said=_said(problem), status=problem.status)
        if problem.status != 422:
            raise
        errors = FormErrors(form_fields(lecturers))
        errors.from_problem(problem, form_messages(lecturers, _("Write your comment in up to 2000 characters, "
                                                                "without control characters")),
                            i18n.current.get())
        return await _form(request, code, typed=form, errors=errors, status=422)
    return RedirectResponse("/evaluate/thanks", status_code=303)
