"""Bulk import of an organisation's list over HTTP: a CSV or XLSX upload, or a JSON batch; `?preflight=true`
reports what would happen, row by row, and changes nothing."""
from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ttct.contracts.envelope import Code
from ttct.contracts.types import DispatchDecision, VietnameseText
from ttct.domain.errors import Invalid
from ttct.http.auth import Principal, centre_access
from ttct.http.conventions import READ, WRITE
from ttct.http.problems import command_metadata
from ttct.papers import labels

from enrolment.adapters import sheets
from enrolment.domain.importing import MAX_ROWS, RowOutcome
from enrolment.domain.organisations import OrganisationRef
from enrolment.service_layer.imports import import_rows

router = APIRouter(prefix="/v1/centres/{centre}/classes/{class_id}/enrolments", tags=["imports"],
                   responses={**READ, **WRITE})


class Problem(BaseModel):
    field: str
    code: str
    detail: str
    detail_vi: str


class RowReport(BaseModel):
    row: int
    status: str = Field(description="enrolled | waitlisted | already-enrolled | already-waiting | error; in a "
                                    "preflight: would-enrol | would-wait | already-enrolled | already-waiting | error")
    full_name: str | None
    learner_id: UUID | None = Field(description="absent in a preflight for a learner not yet registered")
    seat_number: int | None
    position: int | None
    reason: str | None = Field(description="why the learner waits: class-full | over-quota")
    problems: list[Problem]


class ImportReport(BaseModel):
    preflight: bool
    rows: int
    counts: dict[str, int]
    results: list[RowReport]


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sending_organisation: OrganisationRef | None = Field(
        default=None, description="the organisation whose list this is, for rows that do not name one (by its "
                                  "code in the province's directory)")
    rows: list[dict[str, Any]] = Field(max_length=MAX_ROWS, description="one object per learner: full_name, "
                                       "date_of_birth, national_id, party_card_number, gender (male/female, Nam/Nữ), "
                                       "position, party_admitted_on, organisation_code (the same "
                                       "columns as a file); a code not registered in the province's directory is "
                                       "an error of its row (organisation-not-registered); decision_number, "
                                       "decision_date, decision_signer: the row's own dispatch decision")
    dispatch_decision: DispatchDecision | None = Field(
        default=None, description="the organisation's dispatch decision (quyết định cử đi học) sending the "
                                  "learners of this list, for rows that cite none of their own")


_PREFLIGHT = {"enrolled": "would-enrol", "waitlisted": "would-wait"}


def _report(outcomes: list[RowOutcome], preflight: bool) -> ImportReport:
    results = []
    for o in outcomes:
        status = _PREFLIGHT.get(o.status, o.status) if preflight else o.status
        learner = o.learner_id if not preflight or o.status.startswith("already") else None
        results.append(RowReport(row=o.row, status=status, full_name=o.full_name, learner_id=learner,
                                 seat_number=o.seat_number, position=o.position, reason=o.reason,
                                 problems=[Problem(**vars(p)) for p in o.problems]))
    return ImportReport(preflight=preflight, rows=len(results), counts=dict(Counter(r.status for r in results)),
                        results=results)


async def _run(request: Request, centre: str, class_id: UUID, raws, default, preflight: bool,
               first_row: int, decision: DispatchDecision | None = None) -> ImportReport:
    runtime = request.app.state.runtime
    async with request.app.state.lists_at_once:  # LISTS_AT_ONCE: the others wait, holding only their rows
        outcomes = await import_rows(runtime.pool, request.app.state.rosters, centre, class_id, raws, default,
                                     preflight=preflight, first_row=first_row, decision=decision,
                                     new_id=runtime.new_id, vault=runtime.vault,
                                     today=labels.local_day(runtime.clock()),
                                     metadata=command_metadata(request, runtime.settings.province_code, centre))
    return _report(outcomes, preflight)


def _decision(number: str | None, signed_on: date | None, signer: str | None) -> DispatchDecision | None:
    given = {"decision_number": number, "decision_date": signed_on, "decision_signer": signer}
    if all(v is None for v in given.values()):
        return None
    missing = [field for field, value in given.items() if value is None]
    if missing:
        raise Invalid(f"a dispatch decision needs its number, date and signer: give {', '.join(missing)}",
                      "Quyết định cử đi học cần có số, ngày ký và người ký", code="invalid-input",
                      errors=[{"field": f"body.{field}", "message": "missing"} for field in missing])
    try:
        return DispatchDecision(number=number, signed_on=signed_on, signer=signer)
    except ValidationError as exc:
        raise Invalid(f"decision_number: {exc.errors()[0]['msg']}", "Số quyết định cử đi học không hợp lệ",
                      code="invalid-input", errors=[{"field": "body.decision_number",
                                                     "message": exc.errors()[0]["msg"]}]) from None


CSV, XLSX = "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("/import", response_model=ImportReport,
             summary="Import an organisation's list from a CSV or XLSX file (header row, then one learner a row); "
                     "each row's organisation code must be registered in the province's directory",
             # the file part's types, so that clients (and the API's property tests) send a list, not any bytes
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {
                 "encoding": {"file": {"contentType": f"{CSV}, {XLSX}"}}}}}})
async def import_file(centre: Code, class_id: UUID, request: Request,
                      file: UploadFile = File(description="a .csv (UTF-8) or .xlsx file"),
                      organisation_code: Code | None = Form(
                          default=None, description="the organisation, by its code in the province's directory, "
                                                    "for rows naming none"),
                      organisation_name: VietnameseText | None = Form(
                          default=None, description="not used: organisations are named as the directory names them"),
                      decision_number: str | None = Form(
                          default=None, max_length=50,
                          description="the organisation's dispatch decision (quyết định cử đi học) sending this list: "
                                      "its number, with decision_date and decision_signer"),
                      decision_date: date | None = Form(default=None, description="the day the decision was signed"),
                      decision_signer: VietnameseText | None = Form(default=None,
                                                                    description="who issued the decision"),
                      preflight: bool = False,
                      _caller: Principal = centre_access("enrolments:write")) -> ImportReport:
    default = OrganisationRef(code=organisation_code, name=organisation_name) if organisation_code else None
    decision = _decision(decision_number, decision_date, decision_signer)
    raws = sheets.read_upload(file.filename, file.content_type, await file.read())
    return await _run(request, centre, class_id, raws, default, preflight, first_row=2, decision=decision)


@router.post("/batch", response_model=ImportReport, summary="Import an organisation's list sent as JSON")
async def import_batch(centre: Code, class_id: UUID, batch: Batch, request: Request, preflight: bool = False,
                       _caller: Principal = centre_access("enrolments:write")) -> ImportReport:
    return await _run(request, centre, class_id, batch.rows, batch.sending_organisation, preflight, first_row=1,
                      decision=batch.dispatch_decision)
