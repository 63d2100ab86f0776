"""A session's attendance sheet: the whole class on one screen, each learner present, absent or excused, sent
to assessment as the session's whole list in one request."""
from __future__ import annotations

import asyncio
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


async def _marks(api: Api, base: str, session_id: uuid.UUID) -> dict[str, str]:
    try:
        marks = await api.get("assessment", f"{base}/sessions/{session_id}/attendance")
    except Problem as problem:  # assessment learns of the class from its events, a moment after scheduling
        if problem.status != 409:
            raise
        return {}
    return {m["learner_id"]: m["status"] for m in marks}


async def _sheet(api: Api, centre: str, class_id: uuid.UUID, session_id: uuid.UUID, *, marks: bool = True) -> dict:
    """`marks`: the marks recorded so far too (a list being sent replaces them: no need to read them first)."""
    base = f"/centres/{centre}/classes/{class_id}"
    # three services, asked at once: the page waits for the slowest, not for the sum
    the_class, class_sessions, roster, recorded = await asyncio.gather(
        api.get("scheduling", base), api.get("scheduling", f"{base}/sessions"),
        api.get("enrolment", f"{base}/enrolments"), _marks(api, base, session_id) if marks else asyncio.sleep(0, {}))
    found = [s for s in class_sessions if s["session_id"] == str(session_id)]
    if not found:
        raise Problem(404, "not-found", "no such session in this class", _("This class has no such session."))
    roster.sort(key=lambda r: name_sort_key(r["full_name"]))
    return {"c": the_class, "s": found[0], "roster": roster, "marks": recorded}


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
    # the roster only: the class and the session are read again only to show a refused list (the service checks
    # the session is the class's before it records anything)
    roster = await api.get("enrolment", f"/centres/{centre}/classes/{class_id}/enrolments")
    chosen = {r["learner_id"]: str(form.get(f"mark-{r['learner_id']}", "")) for r in roster}
    missing = [r for r in sorted(roster, key=lambda r: name_sort_key(r["full_name"]))
               if chosen[r["learner_id"]] not in labels.ATTENDANCE]
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
    sheet = await _sheet(api, centre, class_id, session_id, marks=False)
    sheet["marks"] = {k: v for k, v in chosen.items() if v}
    return render(request, "attendance.html", status=422, **sheet, labels=labels, errors=errors,
                  key=str(uuid.uuid4()))
