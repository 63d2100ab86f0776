"""A learner's record across the province (quá trình học tập): for the staff of a centre the learner sat a class
at, and the province's admins; as JSON, a paper (PDF) or a table (XLSX, CSV)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from ttct import centres
from ttct.contracts.types import GradeBand, LearnerProfile, ProgrammeType
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
    centre_name: str = Field(description="the centre's name when the class started: the province's register of "
                                         "centres', else as its papers print it (the deployment's CENTRES)")
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
    profile: LearnerProfile | None = None
    """gender, position, date of party admission, party card number, as the latest enrolment gave them (sealed
    until read; gone once the learner is erased)"""
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
    # each class's centre as it was named when the class started (the register; else the CENTRES setting)
    names = await centres.names_on(pool, [(r["centre"], r["starts_on"]) for r in rows if r["starts_on"]])
    lines = [RecordLine(**{k: v for k, v in r.items() if k != "full_name"}, finalised=r["eligible"] is not None,
                        centre_name=names.get((r["centre"], r["starts_on"]))
                        or runtime.settings.centre_profile(r["centre"]).name) for r in rows]
    ring = runtime.keyring
    found = LearnerRecord(learner_id=learner_id, full_name=rows[-1]["full_name"], classes=lines,
                          profile=await learner_record.profile(pool, ring, learner_id),
                          completed=sum(1 for x in lines if x.passed),
                          certificates=sum(1 for x in lines if x.certificate_number and not x.certificate_revoked))
    if fmt is Format.json:
        return found
    own = sorted(caller.centres - caller.inherited)  # the caller's own centre issues it, not one merged into it
    today = labels.local_day(runtime.clock())
    code = own[0] if own else runtime.settings.province_code
    issuer = await centres.on_paper(pool, runtime.settings.centre_profile(code), code, today)
    data = found.model_dump(mode="python")
    sheet_paper = paper.record_paper(issuer, today, data,
                                     lambda code: runtime.settings.centre_profile(code).name)
    return await respond(request, fmt, name=f"{paper.TITLE} - {found.full_name}", learner_ids=(learner_id,),
                         pdf=lambda: pdf.render([sheet_paper], runtime.settings.paper_font_file),
                         workbook=lambda: paper.record_book(data, lambda code: runtime.settings.centre_profile(
                             code).name))
