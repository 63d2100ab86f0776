"""A sending organisation's own pages: the learners it sent, by class and year, with attendance, scores, conduct,
final grade and certificate; one learner's record across the province; each class's result report, to read and to
download. Notification's organisation APIs answer, with the person's own token: another organisation's learner is
not found (404), as it is for the API."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from console import i18n, labels, sessions
from console.adapters.api import Api, Problem
from console.views import env, render
from ttct.papers import labels as labels_on_paper

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
VIETNAM = timezone(timedelta(hours=7))


def moment(value: str | datetime | None) -> str:
    """A time as the organisation reads it: Vietnam's, dd/mm/yyyy hh:mm:ss."""
    if not value:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S")


env.filters["moment"] = moment
env.filters["score"] = labels_on_paper.score  # 8,5: a decimal comma, as on the papers
env.filters["ratio"] = labels_on_paper.ratio  # 66,7%
PAPERS = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "csv": "text/csv"}


def organisation_of(request: Request) -> tuple[sessions.Person, Api, str]:
    """The signed-in organisation's person, their API and the base of their organisation's routes; anyone else is
    refused (403), as the services would."""
    person = sessions.person(request)
    if person.role != "organisation" or not person.organisation:
        raise Problem(403, "forbidden", "These pages are for sending organisations.",
                      _("These pages are for sending organisations."))
    return person, sessions.api(request), f"/organisations/{person.organisation}"


async def profile(api: Api, base: str, code: str) -> dict:
    """The organisation as the directory registered it; its code alone until notification has heard of it."""
    try:
        return await api.get("notification", f"{base}/profile")
    except Problem as refused:
        if refused.status != 404:
            raise
        return {"code": code, "name": code, "contacts": []}


@router.get("/organisation")
async def learners(request: Request, year: int | None = None):
    person, api, base = organisation_of(request)
    found, reported, me = await asyncio.gather(api.get("notification", f"{base}/learners"),
                                               api.get("notification", f"{base}/result-reports"),
                                               profile(api, base, person.organisation or ""))
    years = sorted({int(r["starts_on"][:4]) for r in found if r.get("starts_on")}, reverse=True)
    if year is None and years:
        year = years[0]
    shown = [r for r in found if not year or (r.get("starts_on") or "")[:4] == str(year)]
    reported_ids = {r["class_id"] for r in reported}
    wanted = sorted({r["class_id"] for r in shown} & reported_ids)
    reports = await asyncio.gather(*(api.get("notification", f"{base}/result-reports/{c}") for c in wanted))
    finals = {line["learner_id"]: line for report in reports for line in report["results"]}
    classes: dict[str, dict] = {}
    for r in shown:  # the API's order: by class (start date), names the Vietnamese way
        classes.setdefault(r["class_id"], {"title": r["class_title"], "centre": r["centre"],
                                           "starts_on": r.get("starts_on"), "ends_on": r.get("ends_on"),
                                           "reported": r["class_id"] in reported_ids, "learners": []}
                           )["learners"].append({**r, "final": finals.get(r["learner_id"])})
    return render(request, "org_learners.html", me=me, classes=classes, years=years, year=year, labels=labels)


@router.get("/organisation/learners/{learner_id}")
async def record(request: Request, learner_id: uuid.UUID):
    person, api, base = organisation_of(request)
    found = await api.get("notification", f"{base}/learners/{learner_id}/record")
    return render(request, "org_record.html", record=found, labels=labels)


@router.get("/organisation/reports/{class_id}")
async def report(request: Request, class_id: uuid.UUID):
    person, api, base = organisation_of(request)
    found = await api.get("notification", f"{base}/result-reports/{class_id}")
    return render(request, "org_report.html", report=found, labels=labels)


@router.get("/organisation/reports/{class_id}/download")
async def download(request: Request, class_id: uuid.UUID, format: str = "pdf"):
    person, api, base = organisation_of(request)
    if format not in PAPERS:
        return RedirectResponse(f"/organisation/reports/{class_id}", status_code=303)
    paper = await api.download("notification", f"{base}/result-reports/{class_id}", format=format)
    disposition = paper.headers.get("content-disposition", f'attachment; filename="thong-bao-ket-qua.{format}"')
    return Response(paper.content, media_type=paper.headers.get("content-type", PAPERS[format]),
                    headers={"Content-Disposition": disposition})
