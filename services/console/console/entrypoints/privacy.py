"""Learners' personal data: who read or changed them (the four services' access logs, read together) and their
erasure on request (enrolment's, with its reason). Routes translate and delegate: the services keep the logs and
decide the erasure; the console shows them."""
from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import access_log, i18n, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of, no_centre
from console.entrypoints.forms import FormErrors
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext

PAGE_SIZE = 50  # records a page shows, and asks of each service
LOGS = tuple(access_log.SERVICES)  # every service keeps its own log


def may_erase(person: sessions.Person) -> bool:
    """Enrolment erases for the centre's staff and the province administrator only (enrolments:write besides)."""
    return person.role in ("centre-staff", "province-admin") and person.may("enrolments:write")


@router.get("/personal-data-access")
async def personal_data_access(request: Request, learner: str = "", service: str = "", before: str = ""):
    person = sessions.person(request)
    if elsewhere := no_centre(request, person):
        return elsewhere
    if not person.may("audit:read"):
        return render(request, "error.html", status=403,
                      message=_("Your role may not read the personal-data access log."))
    centre, api = centre_of(request, person), sessions.api(request)
    filters, errors = {"learner": learner.strip(), "service": service if service in LOGS else ""}, FormErrors(
        ("learner",))
    try:
        learner_id = str(uuid.UUID(filters["learner"])) if filters["learner"] else None
    except ValueError:
        learner_id = None
        errors.add("learner", _("Enter the learner's code as it shows in their page's address, for example "
                                "3f2b6c1e-8d4a-4f0e-9b7a-1c2d3e4f5a6b"))
    asked = (filters["service"],) if filters["service"] else LOGS
    cursor = access_log.cursor_of(before, asked) if before else access_log.first_page(asked)
    if errors:
        cursor = {}
    pages = await asyncio.gather(*(api.get(s, f"/centres/{centre}/personal-data-access/{s}", learner_id=learner_id,
                                           before=number, limit=PAGE_SIZE) for s, number in cursor.items()))
    shown, following = access_log.merged(dict(zip(cursor, pages)), PAGE_SIZE)
    return render(request, "personal_data_access.html", status=422 if errors else 200, centre=centre,
                  entries=shown, following=access_log.cursor_text(following) if following else "",
                  later=bool(before), filters=filters, errors=errors, log=access_log,
                  services=[(code, _(name)) for code, name in access_log.SERVICES.items()])


async def _learner_record(request: Request, learner_id: uuid.UUID) -> dict:
    return await sessions.api(request).get("assessment", f"/learners/{learner_id}/record")


def _erasure_page_of(request: Request, record: dict, form: dict[str, str], errors: FormErrors | None = None):
    return render(request, "erasure.html", status=422 if errors else 200, record=record, form=form,
                  errors=errors or FormErrors(("reason",)))


@router.get("/learners/{learner_id}/erasure")
async def erasure_form(request: Request, learner_id: uuid.UUID):
    person = sessions.person(request)
    if not may_erase(person):
        return render(request, "error.html", status=403,
                      message=_("Only the centre's staff or the province administrator may erase a learner's data."))
    return _erasure_page_of(request, await _learner_record(request, learner_id),
                            {"reason": "", "key": str(uuid.uuid4())})


@router.post("/learners/{learner_id}/erasure")
async def erase(request: Request, learner_id: uuid.UUID):
    person = sessions.person(request)
    posted = await sessions.check_csrf(request)
    form = {"reason": str(posted.get("reason", "")).strip(), "key": str(posted.get("key") or uuid.uuid4())}
    path = f"/centres/{centre_of(request, person)}/learners/{learner_id}/erasure"
    try:
        await sessions.api(request).post("enrolment", path, {"reason": form["reason"]}, idempotency_key=form["key"])
    except Problem as problem:
        if problem.status not in (403, 404, 409, 422):
            raise
        errors = FormErrors(("reason",))
        errors.from_problem(problem, {"reason": _("Enter why the learner's data are erased, up to 500 characters")},
                            i18n.current.get())
        form["key"] = str(uuid.uuid4())  # the corrected form is a new request, not a replay of the refused one
        return _erasure_page_of(request, await _learner_record(request, learner_id), form, errors)
    request.session["flash"] = _("The learner's personal data have been erased. Every service shows them as "
                                 "erased within moments.")
    return RedirectResponse(f"/learners/{learner_id}", status_code=303)
