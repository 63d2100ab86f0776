"""A learner's record across the province (quá trình học tập): for the staff of a centre the learner sat a class
at, and the province's admins; as JSON, a paper (PDF) or a table (XLSX, CSV)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from ttct.contracts.types import GradeBand, ProgrammeType
from ttct.domain.errors import NotFound
from ttct.http.auth import Principal, principal, require
from ttct.papers import labels, pdf
from ttct.papers.http import FILES, Format, documented, format_choice, respond

from assessment.adapters import learner_record
from assessment.papers import record as paper

router = APIRouter(prefix="/v1/learners", tags=["learner record"])
OFFERED = (Format.json, *FILES)


class RecordLine(BaseModel):
    centre: str
    centre_name: str = Field(description="the centre's name as its papers print it (the deployment's CENTRES)")
    class_id: UUID
    class_title: str
    programme_type: ProgrammeType | None
    starts_on: date | None
    ends_on: date | None
    cancelled: bool
    organisation_code: str
    organisation_name: str
    withdrawn: bool
    finalised: bool
    eligible: bool | None
    final_score: Decimal | None
    grade_band: GradeBand | None
    passed: bool | None
    conduct: str | None
    sessions_attended: int | None
    sessions_counted: int | None
    certificate_number: str | None
    certificate_issued_on: date | None
    certificate_revoked: bool | None


class LearnerRecord(BaseModel):
    learner_id: UUID
    full_name: str
    classes: list[RecordLine]
    completed: int
    certificates: int


def _unknown(learner_id: UUID) -> NotFound:
    return NotFound(f"no class of learner {learner_id} is known at your centres",
                    f"Không có lớp học nào của học viên {learner_id} ở trung tâm của bạn", code="learner-unknown")


@router.get("/{learner_id}/record", response_model=LearnerRecord,
            responses=documented(OFFERED, "the learner's record: JSON, the paper (PDF) or its table (XLSX, CSV)"),
            summary="A learner's record across the province (quá trình học tập): every class at every centre over "
                    "the years, with its final result, conduct and certificate; for the staff of a centre the "
                    "learner sat a class at and the province's admins")
async def learner_record_of(learner_id: UUID, request: Request, fmt: Format = format_choice(*OFFERED),
                            caller: Principal = Depends(principal)) -> LearnerRecord | Response:
    require("results:read", caller)
    pool = request.app.state.runtime.pool
    if not await learner_record.visible(pool, learner_id):
        raise _unknown(learner_id)
    rows = await learner_record.record(pool, learner_id)
    # the reading goes in the access log of a centre of the caller's where the learner sat a class
    request.state.audit_centre = next((r["centre"] for r in rows if r["centre"] in caller.centres), None)
    runtime = request.app.state.runtime
    lines = [RecordLine(**{k: v for k, v in r.items() if k != "full_name"}, finalised=r["eligible"] is not None,
                        centre_name=runtime.settings.centre_profile(r["centre"]).name) for r in rows]
    found = LearnerRecord(learner_id=learner_id, full_name=rows[-1]["full_name"], classes=lines,
                          completed=sum(1 for x in lines if x.passed),
                          certificates=sum(1 for x in lines if x.certificate_number and not x.certificate_revoked))
    if fmt is Format.json:
        return found
    issuer = runtime.settings.centre_profile(sorted(caller.centres)[0] if caller.centres else
                                             runtime.settings.province_code)
    data = found.model_dump(mode="python")
    sheet_paper = paper.record_paper(issuer, labels.local_day(runtime.clock()), data,
                                     lambda code: runtime.settings.centre_profile(code).name)
    return await respond(request, fmt, name=f"{paper.TITLE} - {found.full_name}", learner_ids=(learner_id,),
                         pdf=lambda: pdf.render([sheet_paper], runtime.settings.paper_font_file),
                         workbook=lambda: paper.record_book(data, lambda code: runtime.settings.centre_profile(
                             code).name))
