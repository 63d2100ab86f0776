"""A class's list of learners (danh sách học viên) as a paper (PDF) or a table (XLSX, CSV)."""
from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from ttct import centres
from ttct.contracts.envelope import Code
from ttct.domain.errors import NotFound
from ttct.http.auth import Principal, centre_access
from ttct.papers import labels, pdf
from ttct.papers.http import FILES, Format, documented, format_choice, respond

from enrolment import papers
from enrolment.adapters import views

router = APIRouter(prefix="/v1/centres/{centre}/classes/{class_id}", tags=["papers"])


@router.get("/class-list", response_class=Response,
            responses=documented(FILES, "the class's learners by sending organisation"),
            summary="The class list (danh sách học viên): the learners holding a seat, by sending organisation "
                    "and name (Vietnamese order), as PDF, XLSX or CSV (?format= or Accept)")
async def class_list(centre: Code, class_id: UUID, request: Request, fmt: Format = format_choice(*FILES),
                     organisation: Code | None = Query(None, description="only the learners this organisation sent"),
                     _caller: Principal = centre_access("enrolments:read")) -> Response:
    runtime = request.app.state.runtime
    the_class = await views.class_details(runtime.pool, centre, class_id)
    if the_class is None:
        raise NotFound(f"class {class_id} does not exist in this centre",
                       f"Không tìm thấy lớp {class_id} ở trung tâm này", code="class-unknown")
    roster = await views.roster(runtime.pool, centre, class_id, organisation=organisation)
    today = labels.local_day(runtime.clock())
    profile = await centres.on_paper(runtime.pool, runtime.settings.centre_profile(centre), centre, today)
    paper = papers.class_list(profile, today, the_class, roster, organisation)
    return await respond(request, fmt, name=f"{papers.TITLE} - {the_class['title']}",
                         learner_ids=[r["learner_id"] for r in roster],
                         pdf=lambda: pdf.render([paper], runtime.settings.paper_font_file),
                         workbook=lambda: papers.class_list_book(the_class, roster))
