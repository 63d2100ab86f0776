"""Lecturers' teaching hours at the centre (giờ giảng) in a year or one month of it, as scheduling counts them
from the sessions held, by lecturer and kind of lecturer; and scheduling's paper and tables to download."""
from __future__ import annotations

from fastapi import APIRouter, Request

from console import i18n, labels, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of, no_centre
from console.entrypoints.forms import FormErrors
from console.views import handed_on, render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
FIELDS = ("year", "month")


def _period(request: Request, year: str, month: str) -> tuple[dict[str, str], FormErrors]:
    """The period asked for, as typed, and what in it cannot be sent on (a year that is not four digits)."""
    typed = {"year": year.strip() or str(request.app.state.today().year), "month": month.strip()}
    errors = FormErrors(FIELDS)
    if not (typed["year"].isdigit() and len(typed["year"]) == 4):
        errors.add("year", _("Enter the year as four digits, for example 2027"))
    if typed["month"] not in {"", *map(str, range(1, 13))}:
        errors.add("month", _("Choose a month, or the whole year"))
    return typed, errors


@router.get("/lecturer-hours")
async def hours_page(request: Request, year: str = "", month: str = ""):
    person = sessions.person(request)
    if elsewhere := no_centre(request, person):
        return elsewhere
    typed, errors = _period(request, year, month)
    report = None
    if not errors:
        try:
            report = await sessions.api(request).get("scheduling", f"/centres/{centre_of(request, person)}"
                                                     "/lecturer-hours", year=typed["year"], month=typed["month"])
        except Problem as problem:
            if problem.status != 422:
                raise
            errors.from_problem(problem, {"year": _("Enter a year from 2000 to 2100"),
                                          "month": _("Choose a month, or the whole year")}, i18n.current.get())
    return render(request, "hours.html", status=422 if errors else 200, form=typed, errors=errors, report=report,
                  labels=labels)


@router.get("/lecturer-hours/file")
async def hours_file(request: Request, year: str = "", month: str = "", format: str = "xlsx"):
    person = sessions.person(request)
    if elsewhere := no_centre(request, person):
        return elsewhere
    typed, errors = _period(request, year, month)
    if errors or format not in labels.FILE_FORMATS:
        return render(request, "hours.html", status=422, form=typed, errors=errors or FormErrors(FIELDS, general=[
            _("Choose one of the offered files")]), report=None, labels=labels)
    return handed_on(await sessions.api(request).download(
        "scheduling", f"/centres/{centre_of(request, person)}/lecturer-hours", year=typed["year"],
        month=typed["month"], format=format))
