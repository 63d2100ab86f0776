"""A class's timetable as a paper (PDF) or a table (XLSX, CSV)."""
from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response
from ttct import centres
from ttct.contracts.envelope import Code
from ttct.http.auth import Principal, centre_access
from ttct.papers import labels, pdf
from ttct.papers.http import FILES, Format, documented, format_choice, respond

from scheduling import papers
from scheduling.adapters import session_views
from scheduling.entrypoints.http import class_view

router = APIRouter(prefix="/v1/centres/{centre}/classes/{class_id}", tags=["papers"])


@router.get("/timetable", response_class=Response, responses=documented(FILES, "the class's timetable"),
            summary="The class's timetable (lịch học): its scheduled sessions in time order, as PDF, XLSX or CSV "
                    "(?format= or Accept)")
async def timetable(centre: Code, class_id: UUID, request: Request, fmt: Format = format_choice(*FILES),
                    _caller: Principal = centre_access("sessions:read")) -> Response:
    runtime = request.app.state.runtime
    the_class = (await class_view(request, centre, class_id)).model_dump()
    sessions = await session_views.list_for_class(runtime.pool, class_id)
    today = labels.local_day(runtime.clock())
    profile = await centres.on_paper(runtime.pool, runtime.settings.centre_profile(centre), centre, today)
    paper = papers.timetable(profile, today, the_class, sessions)
    return await respond(request, fmt, name=f"{papers.TITLE} - {the_class['title']}", learner_ids=(),
                         pdf=lambda: pdf.render([paper], runtime.settings.paper_font_file),
                         workbook=lambda: papers.timetable_book(the_class, sessions))
