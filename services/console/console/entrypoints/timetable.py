"""Scheduling a session of a class: a lesson at one of the centre's venues or a field trip, with a lecturer of the
province. A clash (the lecturer or the venue already booked then) is refused by scheduling and shown beside the
field, naming the clashing session."""
from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of
from console.entrypoints.forms import FormErrors
from console.views import render
from ttct.domain.names import name_sort_key

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
FIELDS = ("session_date", "starts_at", "ends_at", "topic", "lecturer_id", "venue_id", "field_trip_site")
# refusals that concern one field: shown beside it in scheduling's words
CODES = {"lecturer-clash": "lecturer_id", "lecturer-unknown": "lecturer_id", "venue-clash": "venue_id",
         "venue-unknown": "venue_id", "session-outside-class": "session_date", "class-session-overlap": "starts_at",
         "session-slot-invalid": "ends_at"}


def _messages() -> dict[str, str]:
    return {
        "session_date": _("Enter the day as dd/mm/yyyy, within the class's dates"),
        "starts_at": _("Enter the starting time as hh:mm, for example 07:30"),
        "ends_at": _("Enter the ending time as hh:mm, after the starting time"),
        "topic": _("Enter the topic, up to 200 characters"),
        "lecturer_id": _("Choose the lecturer"),
        "venue_id": _("Choose a venue, or for a field trip write the site instead (not both)"),
        "field_trip_site": _("Write the site of the field trip, up to 200 characters"),
    }


async def _page(request: Request, class_id: uuid.UUID, form: dict[str, str], errors: FormErrors | None = None):
    person = sessions.person(request)
    centre, api = centre_of(request, person), sessions.api(request)
    the_class = await api.get("scheduling", f"/centres/{centre}/classes/{class_id}")
    lecturers = sorted(await api.get("scheduling", "/lecturers"), key=lambda l: name_sort_key(l["full_name"]))
    venues = await api.get("scheduling", f"/centres/{centre}/venues")
    return render(request, "session_new.html", status=422 if errors else 200, c=the_class, form=form,
                  lecturers=lecturers, venues=venues, errors=errors or FormErrors(FIELDS))


@router.get("/classes/{class_id}/sessions/new")
async def new_session(request: Request, class_id: uuid.UUID):
    return await _page(request, class_id, {k: "" for k in FIELDS} | {"key": str(uuid.uuid4())})


def _parse(text: str, pattern: str, fmt: str) -> str | None:
    try:
        return datetime.strptime(text.strip(), pattern).strftime(fmt)
    except ValueError:
        return None


@router.post("/classes/{class_id}/sessions/new")
async def schedule_session(request: Request, class_id: uuid.UUID):
    person = sessions.person(request)
    posted = await sessions.check_csrf(request)
    form = {k: str(posted.get(k, "")) for k in (*FIELDS, "key")}
    messages, errors = _messages(), FormErrors(FIELDS)
    body: dict[str, object] = {"topic": form["topic"].strip(), "lecturer_id": form["lecturer_id"] or None,
                               "session_date": _parse(form["session_date"], "%d/%m/%Y", "%Y-%m-%d"),
                               "starts_at": _parse(form["starts_at"], "%H:%M", "%H:%M"),
                               "ends_at": _parse(form["ends_at"], "%H:%M", "%H:%M")}
    for name in ("session_date", "starts_at", "ends_at"):  # only what JSON cannot carry is checked here
        if body[name] is None:
            errors.add(name, messages[name])
    if form["venue_id"]:
        body["venue_id"] = form["venue_id"]
    if form["field_trip_site"].strip():
        body["field_trip_site"] = form["field_trip_site"].strip()
    if not errors:
        try:
            await sessions.api(request).post(
                "scheduling", f"/centres/{centre_of(request, person)}/classes/{class_id}/sessions", body,
                idempotency_key=form["key"])
        except Problem as problem:
            if problem.status not in (409, 422):
                raise
            errors.from_problem(problem, messages, i18n.current.get(), codes=CODES, whole="venue_id")
        else:
            request.session["flash"] = _("The session has been scheduled.")
            return RedirectResponse(f"/classes/{class_id}#sessions", status_code=303)
    form["key"] = str(uuid.uuid4())
    return await _page(request, class_id, form, errors)
