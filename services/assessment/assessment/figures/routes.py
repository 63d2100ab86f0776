"""The year's figures: one centre's (its staff, `figures:read`) and the whole province's (province admins only)."""
from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from ttct import centres
from ttct.contracts.envelope import Code
from ttct.http.auth import Principal, centre_access, province_admin_access
from ttct.papers import labels, pdf
from ttct.papers.http import FILES, Format, documented, format_choice, respond

from assessment.adapters.facts import VIETNAM
from assessment.figures import maps, tables, tally
from assessment.papers import figures as year_report

router = APIRouter(tags=["figures"])

YEAR = Query(default=None, ge=2000, le=2100, description="the year classes start in; default the current year")


def province_admin(permission: str):
    """A route dependency: a province admin of the token's province (the verifier checks the province)."""
    return province_admin_access(permission)


MAP = Query("recorded", alias="map",
            description="by_organisation by the map as recorded (each learner under the organisation that sent "
                        "them: the map of that year) or by today's (organisations merged or dissolved since rolled "
                        "up into their successors; totals unchanged). By today's map the centres too: a centre "
                        "merged into another (or made its site) counts under it in by_centre, and a successor's "
                        "figures include its predecessors' classes")


async def _figures(request: Request, year: int | None, centre: str | None,
                   by: tally.Map = "recorded") -> tally.Figures:
    now = request.app.state.runtime.clock().astimezone(VIETNAM)
    year = year or now.year
    pool = request.app.state.runtime.pool
    if by == "today":
        merged = {code: s.successor_code for code, s in (await centres.successions(pool, now.date())).items()}
        # a successor's figures take in its predecessors' rows (those the caller may see: row-level security)
        wide = centre is not None and centre in merged.values()
        rows = await tables.counts(pool, year, None if wide else centre)
        return tally.figures(year, centre, rows, await maps.successors(pool, now.date()), merged)
    return tally.figures(year, centre, await tables.counts(pool, year, centre))


@router.get("/v1/centres/{centre}/figures", response_model=tally.Figures,
            summary="A centre's figures for a year: classes, learner places, pass rate and grades, per programme "
                    "type and per sending organisation")
async def centre_figures(centre: Code, request: Request, year: int | None = YEAR, by: tally.Map = MAP,
                         _caller: Principal = centre_access("figures:read")) -> tally.Figures:
    return await _figures(request, year, centre, by)


@router.get("/v1/figures", response_model=tally.Figures,
            summary="The province's figures for a year, also per centre (province admins only)",
            responses={403: {"description": "not a province admin"}})
async def province_figures(request: Request, year: int | None = YEAR, by: tally.Map = MAP,
                           _caller: Principal = province_admin("figures:read")) -> tally.Figures:
    return await _figures(request, year, None, by)


async def _report(request: Request, fmt: Format, year: int | None, centre: str | None) -> Response:
    """The year report: the centre's, issued by the centre; the province's, by the entry of CENTRES named after the
    province (e.g. its Ban Tuyên giáo), a line per centre."""
    f = await _figures(request, year, centre)
    runtime = request.app.state.runtime
    settings = runtime.settings
    today = labels.local_day(runtime.clock())
    code = centre or settings.province_code
    issuer = await centres.on_paper(runtime.pool, settings.centre_profile(code), code, today)
    # each centre by the register's name today (a centre never registered: the CENTRES setting's)
    registered = await centres.names_on(runtime.pool, [(x.centre, today) for x in f.by_centre])

    def name(code: str) -> str:
        return registered.get((code, today)) or settings.centre_profile(code).name

    paper = year_report.year_report(issuer, today, f, name)
    return await respond(request, fmt, name=f"{year_report.TITLE} năm {f.year} - {issuer.name}", learner_ids=(),
                         pdf=lambda: pdf.render([paper], settings.paper_font_file),
                         workbook=lambda: year_report.year_book(f, name))


@router.get("/v1/centres/{centre}/figures/report", response_class=Response,
            responses=documented(FILES, "the centre's year report"),
            summary="The centre's year report (báo cáo kết quả đào tạo, bồi dưỡng) with its figures: PDF, or the "
                    "tables as XLSX or CSV (?format= or Accept)")
async def centre_report(centre: Code, request: Request, year: int | None = YEAR, fmt: Format = format_choice(*FILES),
                        _caller: Principal = centre_access("figures:read")) -> Response:
    return await _report(request, fmt, year, centre)


@router.get("/v1/figures/report", response_class=Response,
            responses={**documented(FILES, "the province's year report"), 403: {"description": "not a province admin"}},
            summary="The province's year report, a line per centre (province admins only): PDF, XLSX or CSV")
async def province_report(request: Request, year: int | None = YEAR, fmt: Format = format_choice(*FILES),
                          _caller: Principal = province_admin("figures:read")) -> Response:
    return await _report(request, fmt, year, None)
