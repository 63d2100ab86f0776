"""The province's administrator: every centre's figures for a year side by side, with charts (classes and learner
places per centre and per programme type, pass rates, grade bands and attendance), the centres chosen to compare, a centre's
own figures (by programme and by sending organisation), and the year report to export (PDF, XLSX, CSV), all from
assessment's figures APIs."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console import charts, i18n, labels, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import CENTRE_CODE
from console.entrypoints.organisation import PAPERS
from console.labels import N_
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
BANDS = ("xuat_sac", "gioi", "kha", "trung_binh", "khong_dat")


def admin(request: Request, why: str = N_("Only the province's administrators see every centre's figures.")
          ) -> sessions.Person:
    """The signed-in province administrator; anyone else is shown the forbidden page saying `why`."""
    person = sessions.person(request)
    if person.role != "province-admin":
        raise Problem(403, "forbidden", why, _(why))
    return person


def _year(request: Request, year: int | None) -> int:
    today = request.app.state.today()
    return year if year and 2000 <= year <= 2100 else today.year


MAPS = {"recorded": N_("the map as recorded"), "today": N_("today's map")}


def _map(asked: str) -> str:
    """By which map the figures by organisation are read: as recorded (the organisations of that year), or today's
    (those merged or dissolved since counted in their successors)."""
    return asked if asked in MAPS else "recorded"


def _grade_chart(chart_id: str, title: str, lines: list[tuple[str, dict]]):
    return charts.stacked(chart_id, title, [(name, [line["results"]["grades"].get(b, 0) for b in BANDS])
                                            for name, line in lines],
                          [_(labels.GRADE_BANDS[b]) for b in BANDS])


@router.get("/province")
async def province(request: Request, year: int | None = None, map: str = "recorded"):
    admin(request)
    year, by = _year(request, year), _map(map)
    figures = await sessions.api(request).get("assessment", "/figures", year=year, map=by)
    every = [line["centre"] for line in figures["by_centre"]]
    asked = [c for c in request.query_params.getlist("centre") if c in every]
    lines = [line for line in figures["by_centre"] if not asked or line["centre"] in asked]
    named = [(line["centre"], line) for line in lines]
    drawn = {
        "classes": charts.bars("classes", _("Classes per centre"), [(c, x["classes"]) for c, x in named]),
        "places": charts.bars("places", _("Learner places per centre"), [(c, x["places"]) for c, x in named]),
        "pass_rate": charts.bars("pass-rate", _("Pass rate per centre"),
                                 [(c, x["results"]["pass_rate"]) for c, x in named], percent=True),
        "attendance": charts.bars("attendance", _("Attendance rate per centre"),
                                  [(c, x["results"].get("attendance_rate")) for c, x in named], percent=True),
        "grades": _grade_chart("grades", _("Grades per centre"), named),
        "programmes": charts.bars("programmes", _("Learner places per programme type (the province)"),
                                  [(_(labels.PROGRAMME_TYPES.get(p["programme_type"], p["programme_type"])), p["places"])
                                   for p in figures["by_programme_type"]]),
    }
    columns = [*named, *([] if asked else [(_("Whole province"), figures["total"])])]
    return render(request, "province.html", year=year, figures=figures, lines=lines, every=every, asked=asked,
                  columns=columns, charts=drawn, bands=BANDS, labels=labels, map=by, maps=MAPS)


@router.get("/province/centres/{code}")
async def centre(request: Request, code: str, year: int | None = None, map: str = "recorded"):
    admin(request)
    if not CENTRE_CODE.fullmatch(code):
        raise Problem(404, "not-found", "no such centre", _("This page does not exist."))
    year, by = _year(request, year), _map(map)
    figures = await sessions.api(request).get("assessment", f"/centres/{code}/figures", year=year, map=by)
    programmes = [(_(labels.PROGRAMME_TYPES.get(p["programme_type"], p["programme_type"])), p)
                  for p in figures["by_programme_type"]]
    drawn = {"places": charts.bars("places", _("Learner places per programme type"),
                                   [(name, p["places"]) for name, p in programmes]),
             "grades": _grade_chart("grades", _("Grades per programme type"), programmes)}
    return render(request, "province_centre.html", year=year, code=code, figures=figures,
                  columns=[(_("Whole centre"), figures["total"]), *programmes], charts=drawn, bands=BANDS, labels=labels,
                  map=by, maps=MAPS)


@router.get("/province/export")
async def export(request: Request, year: int | None = None, format: str = "xlsx", centre: str = ""):
    admin(request)
    year = _year(request, year)
    path = f"/centres/{centre}/figures/report" if CENTRE_CODE.fullmatch(centre) else "/figures/report"
    paper = await sessions.api(request).download("assessment", path, year=year,
                                                 format=format if format in PAPERS else "xlsx")
    return Response(paper.content, media_type=paper.headers.get("content-type"),
                    headers={"Content-Disposition": paper.headers.get("content-disposition",
                                                                      f'attachment; filename="bao-cao-{year}"')})
