"""An organisation's view of one of its people's record across the province: every class it sent them to, at any
centre, with the final result, conduct and certificate; as JSON or a table (XLSX, CSV)."""
from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from ttct.contracts.envelope import Code
from ttct.contracts.types import LearnerProfile, SealedPersonalData
from ttct.domain.errors import NotFound
from ttct.http.auth import Principal, organisation_access
from ttct.papers import labels
from ttct.papers.http import Format, documented, format_choice, respond
from ttct.papers.model import FILED, Column, Sheet, Workbook

from notification.adapters import views
from notification.entrypoints.successors import taken_over

router = APIRouter(prefix="/v1/organisations/{org}", tags=["learner record"])
OFFERED = (Format.json, Format.xlsx, Format.csv)
TITLE = "Quá trình học tập"


class RecordLine(BaseModel):
    class_id: UUID
    class_title: str
    centre: str
    centre_name: str
    """the centre as the deployment's papers name it (CENTRES)"""
    programme_type: str | None
    starts_on: date | None
    ends_on: date | None
    status: str
    finalised: bool
    eligible: bool | None = None
    final_score: float | None = None
    grade_band: str | None = None
    passed: bool | None = None
    conduct: str | None = None
    certificate_number: str | None = None


class OrganisationLearnerRecord(BaseModel):
    learner_id: UUID
    full_name: str
    profile: LearnerProfile | None = None
    """gender, position, date of party admission, party card number, as the latest enrolment gave them (sealed
    until read; gone once the learner is erased)"""
    classes: list[RecordLine]


COLUMNS = (Column("STT", 0.5, "int"), Column("Lớp"), Column("Chương trình"), Column("Trung tâm"),
           Column("Từ ngày", kind="date"), Column("Đến ngày", kind="date"), Column("Điểm", kind="score"),
           Column("Xếp loại"), Column("Rèn luyện"), Column("Giấy chứng nhận"), Column("Mã lớp", outputs=FILED))


def _book(record: OrganisationLearnerRecord) -> Workbook:
    rows = tuple((i, x.class_title, labels.programme(x.programme_type), x.centre_name, x.starts_on, x.ends_on,
                  x.final_score, labels.grade(x.grade_band) if x.finalised else "Chưa có kết quả",
                  labels.conduct(x.conduct), x.certificate_number or "", x.class_id)
                 for i, x in enumerate(record.classes, 1))
    return Workbook(f"{TITLE} – {record.full_name}", (Sheet(TITLE, COLUMNS, rows),))


@router.get("/learners/{learner_id}/record", response_model=OrganisationLearnerRecord,
            responses=documented(OFFERED, "the learner's record: JSON, or its table (XLSX, CSV)"),
            summary="One of the organisation's people's record (quá trình học tập): every class the organisation "
                    "sent them to at any centre of the province, with the final result, conduct and certificate")
async def learner_record(org: Code, learner_id: UUID, request: Request, fmt: Format = format_choice(*OFFERED),
                         _caller: Principal = organisation_access("notifications:read")
                         ) -> OrganisationLearnerRecord | Response:
    rows = await views.learner_record(request.app.state.runtime.pool, await taken_over(request, org),
                                      learner_id)
    if not rows:
        raise NotFound(f"the organisation sent no learner {learner_id} to any class",
                       f"Đơn vị không cử học viên {learner_id} đi học lớp nào", code="learner-unknown")
    lines, settings = [], request.app.state.runtime.settings
    for r in rows:
        result = {k: v for k, v in (r["result"] or {}).items() if k in RecordLine.model_fields}
        lines.append(RecordLine(**{k: r[k] for k in ("class_id", "class_title", "centre", "programme_type",
                                                       "starts_on", "ends_on", "status")},
                                centre_name=settings.centre_profile(r["centre"]).name,
                                finalised=r["result"] is not None, **result))
    sealed = next((r["profile"] for r in reversed(rows) if r["profile"]), None)
    profile = await request.app.state.runtime.keyring.open(SealedPersonalData.model_validate_json(sealed),
                                                           LearnerProfile) if sealed else None
    record = OrganisationLearnerRecord(learner_id=learner_id, full_name=rows[-1]["full_name"], classes=lines,
                                       profile=profile)
    if fmt is Format.json:
        return record
    return await respond(request, fmt, name=f"{TITLE} - {record.full_name}", learner_ids=(learner_id,),
                         workbook=lambda: _book(record))
