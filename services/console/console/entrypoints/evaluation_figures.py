"""The centre's course evaluations over a year, as assessment adds them up: per programme type, per lecturer (in
Vietnamese name order) and per class, each class linked to its own evaluation."""
from __future__ import annotations

from fastapi import APIRouter, Request

from console import labels, sessions
from console.entrypoints.centres import centre_of, no_centre
from console.views import render

router = APIRouter(include_in_schema=False)


@router.get("/evaluations")
async def evaluation_figures(request: Request, year: int | None = None):
    person = sessions.person(request)
    if elsewhere := no_centre(request, person):
        return elsewhere
    year = year if year and 2000 <= year <= 2100 else request.app.state.today().year
    figures = await sessions.api(request).get("assessment", f"/centres/{centre_of(request, person)}"
                                              "/evaluation-figures", year=year)
    return render(request, "evaluation_figures.html", year=year, figures=figures, labels=labels)
