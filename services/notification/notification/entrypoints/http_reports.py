"""The result reports a sending organisation can download at any time: which classes reported to it, and each
class's report as JSON, PDF, XLSX or CSV (the same paper its email carried, with the latest results)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from ttct import centres
from ttct.contracts.envelope import Code
from ttct.contracts.types import DispatchDecision
from ttct.domain.errors import NotFound
from ttct.domain.names import name_sort_key
from ttct.http.auth import Principal, organisation_access
from ttct.papers import labels, pdf, reports
from ttct.papers.http import FILES, Format, documented, format_choice, respond
from ttct.papers.model import Workbook

from notification.adapters import reports as reported
from notification.adapters import views
from notification.entrypoints.successors import taken_over

router = APIRouter(prefix="/v1/organisations/{org}", tags=["result reports"])
OFFERED = (Format.json, *FILES)


class ReportedClass(BaseModel):
    class_id: UUID
    centre: str
    class_title: str
    programme_type: str | None
    starts_on: date | None
    ends_on: date | None
    reported_at: datetime
    learners: int
    passed: int


class ResultReport(ReportedClass):
    centre_name: str
    sending_organisation: dict[str, str]
    dispatch_decisions: list[DispatchDecision] = Field(
        default_factory=list, description="the organisation's dispatch decisions (quyết định cử đi học) that sent "
                                          "these learners, as the report cites them")
    results: list[dict[str, Any]]


async def _report(request: Request, org: str, class_id: UUID) -> ResultReport:
    pool = request.app.state.runtime.pool
    codes = await taken_over(request, org)
    found = await reported.reported_classes(pool, codes, class_id)
    if not found:
        raise NotFound(f"no result report of class {class_id} was sent to this organisation",
                       f"Đơn vị chưa nhận thông báo kết quả học tập của lớp {class_id}", code="result-report-unknown")
    organisation = await views.organisation(pool, org) or {"code": org, "name": org}
    lines = sorted(await reported.lines(pool, codes, class_id), key=lambda x: name_sort_key(x["full_name"]))
    settings = request.app.state.runtime.settings
    decisions = [d for cited in (await views.dispatch_decisions(pool, class_id, codes)).values() for d in cited]
    today = labels.local_day(request.app.state.runtime.clock())
    centre = found[0]["centre"]
    profile = await centres.on_paper(pool, settings.centre_profile(centre), centre, today)
    return ResultReport(**found[0], centre_name=profile.name,
                        sending_organisation={"code": organisation["code"], "name": organisation["name"]},
                        dispatch_decisions=decisions, results=lines)


@router.get("/result-reports", response_model=list[ReportedClass],
            summary="The classes whose result report was sent to the organisation, oldest first, with how many of "
                    "its learners passed")
async def list_reports(org: Code, request: Request,
                       _caller: Principal = organisation_access("notifications:read")) -> list[ReportedClass]:
    rows = await reported.reported_classes(request.app.state.runtime.pool, await taken_over(request, org))
    return [ReportedClass.model_validate(r) for r in rows]


@router.get("/result-reports/{class_id}", response_model=ResultReport,
            responses=documented(OFFERED, "the class's result report for the organisation: JSON, or the paper "
                                          "(PDF), or its table (XLSX, CSV)"),
            summary="One class's result report (Thông báo kết quả học tập), at any time: JSON, PDF, XLSX or CSV "
                    "(?format= or Accept)")
async def get_report(org: Code, class_id: UUID, request: Request, fmt: Format = format_choice(*OFFERED),
                     _caller: Principal = organisation_access("notifications:read")) -> ResultReport | Response:
    report = await _report(request, org, class_id)
    if fmt is Format.json:
        return report
    settings = request.app.state.runtime.settings
    today = labels.local_day(request.app.state.runtime.clock())
    what = reports.ReportedClass(report.class_title, report.programme_type, report.starts_on, report.ends_on)
    profile = await centres.on_paper(request.app.state.runtime.pool, settings.centre_profile(report.centre),
                                     report.centre, today)
    paper = reports.paper(profile, today, what, report.sending_organisation,
                          report.results, [d.model_dump() for d in report.dispatch_decisions])
    return await respond(
        request, fmt, name=f"{reports.TITLE} - {report.class_title} - {report.sending_organisation['name']}",
        learner_ids=[x["learner_id"] for x in report.results],
        pdf=lambda: pdf.render([paper], settings.paper_font_file),
        workbook=lambda: Workbook(reports.TITLE, (reports.sheet(report.sending_organisation, report.results),),
                                  subject=paper.subject))
