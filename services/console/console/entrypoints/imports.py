"""Importing an organisation's list into a class: the file is checked first (enrolment's preflight: what would
happen, row by row, changing nothing), the rows in error are shown, the person fixes the file and checks it
again, then confirms; only then is it imported."""
from __future__ import annotations

import base64
import binascii
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile

from console import i18n, labels, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of
from console.entrypoints.forms import FormErrors
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
FIELDS = ("file", "organisation_code", "organisation_name")


async def _page(request: Request, class_id: uuid.UUID, form: dict, *, errors: FormErrors | None = None,
                report: dict | None = None, checked: str = "", status: int = 200):
    person = sessions.person(request)
    the_class = await sessions.api(request).get("scheduling", f"/centres/{centre_of(request, person)}/classes/{class_id}")
    return render(request, "import.html", status=status, c=the_class, form=form, errors=errors or FormErrors(FIELDS),
                  report=report, checked=checked, labels=labels)


@router.get("/classes/{class_id}/import")
async def import_form(request: Request, class_id: uuid.UUID):
    return await _page(request, class_id, {"organisation_code": "", "organisation_name": "", "filename": ""})


@router.post("/classes/{class_id}/import")
async def import_list(request: Request, class_id: uuid.UUID):
    person = sessions.person(request)
    posted = await sessions.check_csrf(request)
    form = {k: str(posted.get(k, "")).strip() for k in ("organisation_code", "organisation_name", "filename")}
    upload, confirm = posted.get("file"), posted.get("confirm") == "yes"
    errors = FormErrors(FIELDS)
    if isinstance(upload, UploadFile) and upload.filename:
        content, form["filename"] = await upload.read(), upload.filename
    else:
        try:  # the file already checked, carried in the page to be confirmed
            content = base64.b64decode(str(posted.get("checked", "")), validate=True)
        except binascii.Error:
            content = b""
    if not content:
        errors.add("file", _("Choose the list's file (CSV or XLSX)"))
        return await _page(request, class_id, form, errors=errors, status=422)
    path = f"/centres/{centre_of(request, person)}/classes/{class_id}/enrolments/import"
    fields = {"organisation_code": form["organisation_code"], "organisation_name": form["organisation_name"]}
    try:
        report = await sessions.api(request).upload("enrolment", path, filename=form["filename"], content=content,
                                                    fields=fields, preflight=None if confirm else "true")
    except Problem as problem:
        if problem.status not in (409, 422):
            raise
        errors.from_problem(problem, {"organisation_code": _("Enter the organisation's code"),
                                      "organisation_name": _("Enter the organisation's name with its code"),
                                      "file": _("Choose the list's file (CSV or XLSX)")}, i18n.current.get(),
                            codes={"missing-field": "organisation_name"})
        return await _page(request, class_id, form, errors=errors, status=422)
    if confirm:
        counts = report["counts"]
        request.session["flash"] = _("The list has been imported: {enrolled} enrolled, {waiting} waiting for a seat, "
                                     "{already} already there.").format(
            enrolled=counts.get("enrolled", 0), waiting=counts.get("waitlisted", 0),
            already=counts.get("already-enrolled", 0) + counts.get("already-waiting", 0))
        return RedirectResponse(f"/classes/{class_id}#roster", status_code=303)
    wrong = [r for r in report["results"] if r["status"] == "error"]
    for row in wrong:
        errors.general.append((f"row-{row['row']}", _("Row {row}: {problems}").format(row=row["row"], problems="; ".join(
            p["detail_vi"] if i18n.current.get() == "vi" else p["detail"] for p in row["problems"]))))
    return await _page(request, class_id, form, errors=errors, report=report, status=422 if wrong else 200,
                       checked="" if wrong else base64.b64encode(content).decode())
