"""A class's papers: the attendance sheet of a session, the attendance summary, the score sheet, the result reports
of its sending organisations and its certificates, as PDF (and XLSX, CSV where they are tables)."""
from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from ttct import centres
from ttct.contracts.envelope import Code
from ttct.domain.errors import NotFound
from ttct.http.auth import Principal, centre_access
from ttct.papers import certificates, labels, pdf
from ttct.papers.http import FILES, Format, documented, format_choice, respond
from ttct.papers.model import Paper, Workbook

from assessment.adapters import facts, paper_views, schemes, views
from assessment.domain.certificates import unknown
from assessment.papers import attendance, results, scores
from assessment.service_layer import handlers

router = APIRouter(prefix="/v1/centres/{centre}/classes/{class_id}", tags=["papers"])
PDF_ONLY = (Format.pdf,)


async def _class(request: Request, centre: str, class_id: UUID) -> dict:
    found = await paper_views.class_header(request.app.state.runtime.pool, centre, class_id)
    if found is None:
        raise handlers.not_found_class(class_id)
    return found


async def _printing(request: Request, centre: str, on: date | None = None):
    """The centre as its papers name it on `on` (default today: the register's name that day, else the CENTRES
    setting's), today's date, and a renderer of papers into one PDF."""
    runtime = request.app.state.runtime
    font = runtime.settings.paper_font_file
    today = labels.local_day(runtime.clock())
    profile = await centres.on_paper(runtime.pool, runtime.settings.centre_profile(centre), centre, on or today)
    return profile, today, lambda papers: (lambda: pdf.render(papers, font))


@router.get("/sessions/{session_id}/attendance-sheet", response_class=Response,
            responses=documented(FILES, "the session's attendance sheet"),
            summary="A session's attendance sheet (danh sách học viên dự học) for the learners to sign, with what "
                    "was recorded so far; PDF, XLSX or CSV (?format= or Accept)")
async def attendance_sheet(centre: Code, class_id: UUID, session_id: UUID, request: Request,
                           fmt: Format = format_choice(*FILES),
                           _caller: Principal = centre_access("attendance:read")) -> Response:
    pool = request.app.state.runtime.pool
    the_class = await _class(request, centre, class_id)
    session = await paper_views.session(pool, centre, class_id, session_id)
    if session is None or session["session_date"] is None:
        raise NotFound(f"class {class_id} has no session {session_id}", f"Lớp không có buổi học {session_id}",
                       code="session-unknown")
    learners = list((await facts.learners(pool, centre, class_id)).values())
    marks = {r["learner_id"]: r["status"] for r in await views.attendance(pool, class_id, session_id)}
    centre_profile, today, render = await _printing(request, centre)
    paper = attendance.attendance_sheet(centre_profile, today, the_class, session, learners, marks)
    sheet = attendance.session_sheet(learners, marks)
    return await respond(request, fmt, name=f"{attendance.SHEET_TITLE} - {labels.day(session['session_date'])}",
                         learner_ids=[l.learner_id for l in learners], pdf=render([paper]),
                         workbook=lambda: Workbook(paper.subject, (sheet,)))


@router.get("/attendance-summary", response_class=Response,
            responses=documented(FILES, "the class's attendance summary"),
            summary="The class's attendance summary (bảng tổng hợp chuyên cần): each learner's sessions, absences "
                    "and eligibility; PDF, or XLSX (with every session's marks) or CSV (?format= or Accept)")
async def attendance_summary(centre: Code, class_id: UUID, request: Request, fmt: Format = format_choice(*FILES),
                             _caller: Principal = centre_access("attendance:read")) -> Response:
    pool = request.app.state.runtime.pool
    the_class = await _class(request, centre, class_id)
    listed = await handlers.standings(request.app.state.assessment, centre, class_id)
    centre_profile, today, render = await _printing(request, centre)
    paper = attendance.summary(centre_profile, today, the_class, listed, float(the_class["max_absence_ratio"]))
    book = attendance.summary_book(the_class, listed, await paper_views.sessions(pool, centre, class_id),
                                   await paper_views.marks(pool, class_id))
    return await respond(request, fmt, name=f"{attendance.SUMMARY_TITLE} - {the_class['title']}",
                         learner_ids=[l.learner_id for l, _, _ in listed], pdf=render([paper]),
                         workbook=lambda: book)


@router.get("/score-sheet", response_class=Response, responses=documented(FILES, "the class's score sheet"),
            summary="The class's score sheet (bảng điểm): each learner's score per component of the class's scheme "
                    "and, once final, the result; PDF, XLSX or CSV (?format= or Accept)")
async def score_sheet(centre: Code, class_id: UUID, request: Request, fmt: Format = format_choice(*FILES),
                      _caller: Principal = centre_access("scores:read")) -> Response:
    pool = request.app.state.runtime.pool
    the_class = await _class(request, centre, class_id)
    scheme = await schemes.for_class(pool, centre, await facts.class_facts(pool, centre, class_id))
    learners = list((await facts.learners(pool, centre, class_id)).values())
    recorded = {(r["learner_id"], r["component"]): r["score"] for r in await views.scores(pool, centre, class_id)}
    finals = {r["learner_id"]: r for r in await views.final_results(pool, centre, class_id)} \
        if await views.finalised_class(pool, centre, class_id) else {}
    centre_profile, today, render = await _printing(request, centre)
    paper = scores.score_sheet(centre_profile, today, the_class, scheme, learners, recorded, finals)
    return await respond(request, fmt, name=f"{scores.TITLE} - {the_class['title']}",
                         learner_ids=[l.learner_id for l in learners], pdf=render([paper]),
                         workbook=lambda: scores.score_book(the_class, scheme, learners, recorded, finals))


@router.get("/result-reports", response_class=Response,
            responses=documented(FILES, "the result report of each sending organisation (or of the one named)"),
            summary="The class's result reports (thông báo kết quả học tập), one per sending organisation, in one "
                    "file: PDF (a report from a new page each), XLSX or CSV (?format= or Accept)")
async def result_reports(centre: Code, class_id: UUID, request: Request, fmt: Format = format_choice(*FILES),
                         organisation: Code | None = Query(None, description="only this organisation's report"),
                         _caller: Principal = centre_access("results:read")) -> Response:
    pool = request.app.state.runtime.pool
    the_class = await _class(request, centre, class_id)
    if await views.finalised_class(pool, centre, class_id) is None:
        raise NotFound(f"the results of class {class_id} are not final", f"Kết quả của lớp {class_id} chưa được chốt",
                       code="results-not-finalised")
    rows = await paper_views.final_results(pool, centre, class_id, organisation)
    if not rows:
        raise NotFound(f"no learner of organisation {organisation} has a result in class {class_id}",
                       f"Đơn vị {organisation} không có học viên có kết quả trong lớp {class_id}",
                       code="organisation-not-in-class")
    centre_profile, today, render = await _printing(request, centre)
    papers: list[Paper] = results.result_reports(centre_profile, today, the_class, rows)
    return await respond(request, fmt, name=f"Thông báo kết quả học tập - {the_class['title']}",
                         learner_ids=[r["learner_id"] for r in rows], pdf=render(papers),
                         workbook=lambda: results.result_book(the_class, rows))


@router.get("/certificate-papers", response_class=Response,
            responses=documented(PDF_ONLY, "the certificates, one per page"),
            summary="The class's certificates (giấy chứng nhận) to print, one per page, each with its number and a QR "
                    "code to its public verification: every valid one, or the one numbered (PDF)")
async def certificate_papers(centre: Code, class_id: UUID, request: Request, fmt: Format = format_choice(*PDF_ONLY),
                             number: str | None = Query(None, min_length=1, max_length=80,
                                                        description="only this certificate (printed even if "
                                                                    "revoked, marked so)"),
                             _caller: Principal = centre_access("certificates:read")) -> Response:
    runtime = request.app.state.runtime
    await _class(request, centre, class_id)
    rows = await paper_views.certificate_papers(runtime.pool, centre, class_id, number)
    if number is not None and not rows:
        raise unknown(number)
    if not rows:
        raise NotFound(f"class {class_id} has no valid certificate", f"Lớp {class_id} chưa có giấy chứng nhận",
                       code="no-certificates")
    # a certificate names its centre as named when it was issued
    centre_profile, _, _ = await _printing(request, centre, rows[0]["issued_on"])
    papers = [results.certificate(r, runtime.settings.verification_url) for r in rows]
    name = f"Giấy chứng nhận {number}" if number else f"Giấy chứng nhận - {rows[0]['class_title']}"
    return await respond(request, fmt, name=name, learner_ids=[r["learner_id"] for r in rows],
                         pdf=lambda: certificates.render(papers, centre_profile, runtime.settings.paper_font_file))
