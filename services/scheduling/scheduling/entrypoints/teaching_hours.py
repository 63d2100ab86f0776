"""Lecturers' teaching hours at a centre (giờ giảng), per month or year, as JSON, PDF, XLSX or CSV."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from ttct import centres
from ttct.contracts.envelope import Code
from ttct.http.auth import Principal, centre_access
from ttct.papers import labels, pdf
from ttct.papers.http import FILES, Format, documented, format_choice, respond

from scheduling import papers
from scheduling.adapters import registry, session_views
from scheduling.domain import teaching_hours
from scheduling.domain.lecturers import LecturerKind

router = APIRouter(prefix="/v1/centres/{centre}", tags=["lecturers"])
OFFERED = (Format.json, *FILES)


class TaughtView(BaseModel):
    sessions: int
    hours: Decimal
    periods: Decimal


class MonthView(TaughtView):
    month: int


class LecturerHoursView(TaughtView):
    lecturer_id: UUID
    full_name: str
    kind: LecturerKind | None
    months: list[MonthView]


class KindView(TaughtView):
    kind: LecturerKind | None


class TeachingHours(BaseModel):
    centre: str
    year: int
    month: int | None
    lecturers: list[LecturerHoursView]
    by_kind: list[KindView]
    total: TaughtView


def _taught(t: teaching_hours.Taught) -> dict:
    return {"sessions": t.sessions, "hours": t.hours, "periods": t.periods}


@router.get("/lecturer-hours", response_model=TeachingHours,
            responses=documented(OFFERED, "each lecturer's teaching at the centre: JSON, or the paper (PDF), or its "
                                          "tables (XLSX, CSV)"),
            summary="Lecturers' teaching hours at the centre (giờ giảng) in a year or one month of it, from the "
                    "sessions held (cancelled and not yet ended ones excluded), by lecturer, month and kind of "
                    "lecturer, in sessions, hours and 45-minute periods (tiết)")
async def lecturer_hours(centre: Code, request: Request,
                         year: int = Query(..., ge=2000, le=2100, description="the calendar year"),
                         month: int | None = Query(None, ge=1, le=12, description="one month of the year; "
                                                   "without it, the whole year"),
                         fmt: Format = format_choice(*OFFERED),
                         _caller: Principal = centre_access("figures:read")) -> TeachingHours | Response:
    runtime = request.app.state.runtime
    first, last = (date(year, month or 1, 1),
                   date(year + 1, 1, 1) if month in (None, 12) else date(year, month + 1, 1))
    sessions = await session_views.taught_at(runtime.pool, centre, first, date.fromordinal(last.toordinal() - 1))
    now = runtime.clock().astimezone(labels.VIETNAM).replace(tzinfo=None)
    held = teaching_hours.held(sessions, now)
    kinds = await registry.names_and_kinds(runtime.pool, sorted({s.lecturer_id for s in held}))
    tallied = teaching_hours.tally(held, kinds)
    by_kind = teaching_hours.by_kind(tallied)
    report = TeachingHours(
        centre=centre, year=year, month=month,
        lecturers=[LecturerHoursView(lecturer_id=h.lecturer_id, full_name=h.full_name, kind=h.kind, **_taught(h.total),
                                     months=[MonthView(month=m, **_taught(t)) for m, t in h.by_month])
                   for h in tallied],
        by_kind=[KindView(kind=k, **_taught(t)) for k, t in sorted(by_kind.items(), key=lambda kt: str(kt[0]))],
        total=_taught(sum(by_kind.values(), teaching_hours.Taught())))
    if fmt is Format.json:
        return report
    data = report.model_dump(mode="python")
    today = labels.local_day(runtime.clock())
    profile = await centres.on_paper(runtime.pool, runtime.settings.centre_profile(centre), centre, today)
    paper = papers.teaching_hours(profile, today, data)
    return await respond(request, fmt, name=f"{papers.HOURS_TITLE} {papers.hours_period(year, month)}",
                         learner_ids=(), pdf=lambda: pdf.render([paper], runtime.settings.paper_font_file),
                         workbook=lambda: papers.teaching_hours_book(data))
