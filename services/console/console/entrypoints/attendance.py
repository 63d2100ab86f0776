"""A session's attendance sheet: the whole class on one screen, each learner present, absent or excused, sent
to assessment as the session's whole list in one request."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, labels, sessions
from console.adapters.api import Api, Problem
from console.entrypoints.centres import centre_of
from console.views import render
from ttct.domain.names import name_sort_key

router = APIRouter(include_in_schema=False)
_ = i18n.gettext


async def _sheet(api: Api, centre: str, class_id: uuid.UUID, session_id: uuid.UUID) -> dict:
    base = f"/centres/{centre}/classes/{class_id}"
    the_class = await api.get("scheduling", base)
    found = [s for s in await api.get("scheduling", f"{base}/sessions") if s["session_id"] == str(session_id)]
    if not found:
        raise Problem(404, "not-found", "no such session in this class", _("This class has no such session."))
    roster = sorted(await api.get("enrolment", f"{base}/enrolments"), key=lambda r: name_sort_key(r["full_name"]))
    try:
        marks = {m["learner_id"]: m["status"] for m in await api.get("assessment", f"{base}/sessions/{session_id}/attendance")}
    except Problem as problem:  # assessment learns of the class from its events, a moment after scheduling
        if problem.status != 409:
            raise
        marks = {}
    return {"c": the_class, "s": found[0], "roster": roster, "marks": marks}


@router.get("/classes/{class_id}/sessions/{session_id}/attendance")
async def attendance_sheet(request: Request, class_id: uuid.UUID, session_id: uuid.UUID):
    person = sessions.person(request)
    sheet = await _sheet(sessions.api(request), centre_of(request, person), class_id, session_id)
    return render(request, "attendance.html", **sheet, labels=labels, errors=[], key=str(uuid.uuid4()),
                  flash=request.session.pop("flash", None))


@router.post("/classes/{class_id}/sessions/{session_id}/attendance")
async def record_attendance(request: Request, class_id: uuid.UUID, session_id: uuid.UUID):
    person = sessions.person(request)
    form = await sessions.check_csrf(request)
    centre, api = centre_of(request, person), sessions.api(request)
    sheet = await _sheet(api, centre, class_id, session_id)
    chosen = {r["learner_id"]: str(form.get(f"mark-{r['learner_id']}", "")) for r in sheet["roster"]}
    missing = [r for r in sheet["roster"] if chosen[r["learner_id"]] not in labels.ATTENDANCE]
    errors: list[tuple[str | None, str]] = [
        (f"mark-{r['learner_id']}", _("Choose whether {name} was present, absent or excused").format(
            name=r["full_name"])) for r in missing]
    if not errors:
        marks = [{"learner_id": learner, "status": status} for learner, status in chosen.items()]
        try:
            await api.send("PUT", "assessment", f"/centres/{centre}/classes/{class_id}/sessions/{session_id}/attendance",
                           {"marks": marks}, idempotency_key=str(form.get("key") or uuid.uuid4()))
        except Problem as problem:
            if problem.status not in (404, 409, 422):
                raise
            errors.append((None, problem.detail_vi if i18n.current.get() == "vi" and problem.detail_vi
                           else problem.detail))
        else:
            request.session["flash"] = _("Attendance has been recorded.")
            return RedirectResponse(request.url.path, status_code=303)
    sheet["marks"] = {k: v for k, v in chosen.items() if v}
    return render(request, "attendance.html", status=422, **sheet, labels=labels, errors=errors,
                  key=str(uuid.uuid4()))
