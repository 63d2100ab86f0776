"""A class's course evaluation: what the learners' anonymous forms add up to, the centre's lessons-learned review
(rút kinh nghiệm), and the forms themselves, entered by the centre from the paper the learners filled in."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of
from console.entrypoints.classes import unless_unknown
from console.entrypoints.forms import FormErrors
from console.views import render
from ttct.domain.names import name_sort_key

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
REVIEW_FIELDS = ("strengths", "shortcomings", "lessons")
PAGE_FIELDS = ("count", *REVIEW_FIELDS)  # the evaluation page's fields in page order
RATINGS = ("1", "2", "3", "4", "5")


def _base(request: Request, class_id: uuid.UUID) -> str:
    return f"/centres/{centre_of(request, sessions.person(request))}/classes/{class_id}"


def _review_messages() -> dict[str, str]:
    limit = _("up to 2000 characters, without control characters")
    return {"strengths": _("Write what went well, {limit}").format(limit=limit),
            "shortcomings": _("Write what fell short, {limit}").format(limit=limit),
            "lessons": _("Write the lessons the centre draws from the class, {limit}").format(limit=limit)}


async def evaluation_page_of(request: Request, class_id: uuid.UUID, *, typed: dict[str, str] | None = None,
                             errors: FormErrors | None = None, status: int = 200):
    """The class's evaluation with its two forms (codes for the learners, the review), `typed` kept in them."""
    api, base = sessions.api(request), _base(request, class_id)
    the_class = await api.get("scheduling", base)
    found = await unless_unknown(api.get("assessment", f"{base}/evaluation"))
    review = (found or {}).get("review") or {}
    form = {**{k: review.get(k) or "" for k in REVIEW_FIELDS}, "count": "", "replace_unused": "",
            "key": str(uuid.uuid4()), **(typed or {})}
    return render(request, "evaluation.html", status=status, c=the_class, found=found, form=form,
                  errors=errors or FormErrors(PAGE_FIELDS), flash=request.session.pop("flash", None))


@router.get("/classes/{class_id}/evaluation")
async def evaluation_page(request: Request, class_id: uuid.UUID):
    return await evaluation_page_of(request, class_id)


@router.post("/classes/{class_id}/evaluation/review")
async def review(request: Request, class_id: uuid.UUID):
    form = await sessions.check_csrf(request)
    typed = {k: str(form.get(k, "")).strip() for k in REVIEW_FIELDS}
    body = {k: v or None for k, v in typed.items()}
    try:
        await sessions.api(request).send("PUT", "assessment", f"{_base(request, class_id)}/review", body)
    except Problem as problem:
        if problem.status not in (409, 422):
            raise
        errors = FormErrors(PAGE_FIELDS)
        errors.from_problem(problem, _review_messages(), i18n.current.get())
        return await evaluation_page_of(request, class_id, typed=typed, errors=errors, status=422)
    request.session["flash"] = _("The lessons-learned review has been recorded.")
    return RedirectResponse(f"/classes/{class_id}/evaluation#review", status_code=303)


async def _lecturers(request: Request, class_id: uuid.UUID) -> list[dict]:
    """Those who taught the class's sessions: the ones a learner's form may rate."""
    taught = {s["lecturer_id"]: s["lecturer_name"] for s in await sessions.api(request).get(
        "scheduling", f"{_base(request, class_id)}/sessions") if s["status"] == "scheduled"}
    return sorted(({"lecturer_id": k, "full_name": v} for k, v in taught.items()),
                  key=lambda r: name_sort_key(r["full_name"]))


def form_body(form: dict[str, str], lecturers: list[dict]) -> dict:
    """An evaluation form as assessment takes it: the questions answered, a lecturer's rating only if chosen."""
    rated = [(r["lecturer_id"], form.get(f"lecturer-{r['lecturer_id']}", "")) for r in lecturers]
    return {"content": int(form["content"]) if form.get("content") in RATINGS else None,
            "organisation": int(form["organisation"]) if form.get("organisation") in RATINGS else None,
            "lecturers": [{"lecturer_id": k, "rating": int(v)} for k, v in rated if v in RATINGS],
            "comment": form.get("comment", "").strip() or None}


def form_fields(lecturers: list[dict]) -> tuple[str, ...]:
    return ("content", "organisation", *(f"lecturer-{r['lecturer_id']}" for r in lecturers), "comment")


def form_messages(lecturers: list[dict], comment: str | None = None) -> dict[str, str]:
    rating = _("Choose a rating from 1 to 5, or no answer")
    return {"content": rating, "organisation": rating, **{f"lecturer-{r['lecturer_id']}": rating for r in lecturers},
            "comment": comment or _("Write the learner's comment in up to 2000 characters, without control "
                                    "characters")}


async def _form_page(request: Request, class_id: uuid.UUID, *, typed: dict[str, str] | None = None,
                     errors: FormErrors | None = None, status: int = 200):
    the_class = await sessions.api(request).get("scheduling", _base(request, class_id))
    lecturers = await _lecturers(request, class_id)
    return render(request, "evaluation_form.html", status=status, c=the_class, lecturers=lecturers,
                  ratings=RATINGS, form=typed or {"key": str(uuid.uuid4())},
                  errors=errors or FormErrors(form_fields(lecturers)), flash=request.session.pop("flash", None))


@router.get("/classes/{class_id}/evaluation/forms/new")
async def evaluation_form(request: Request, class_id: uuid.UUID):
    return await _form_page(request, class_id)


@router.post("/classes/{class_id}/evaluation/forms/new")
async def enter_evaluation(request: Request, class_id: uuid.UUID):
    form = {k: str(v) for k, v in (await sessions.check_csrf(request)).items()}
    lecturers = await _lecturers(request, class_id)
    body = form_body(form, lecturers)
    try:
        await sessions.api(request).post("assessment", f"{_base(request, class_id)}/evaluations", body,
                                         idempotency_key=form.get("key") or None)
    except Problem as problem:
        if problem.status not in (409, 422):
            raise
        errors = FormErrors(form_fields(lecturers))
        errors.from_problem(problem, form_messages(lecturers), i18n.current.get())
        return await _form_page(request, class_id, typed={**form, "key": str(uuid.uuid4())}, errors=errors,
                                status=422)
    request.session["flash"] = _("The form has been entered. Enter the next one below.")
    return RedirectResponse(f"/classes/{class_id}/evaluation/forms/new", status_code=303)
