"""A class's seats after it opened: changed on condition that the roster is still the version the person saw
(If-Match); enrolment refuses fewer seats than those taken, and promotes waiting learners into new ones."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, labels, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of
from console.entrypoints.forms import FormErrors
from console.labels import N_
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
STALE = N_("The class's list changed after you opened this page, so the seats were not changed. The page now shows "
           "the class as it is: look again, then change them again if it is still needed.")


async def _page(request: Request, class_id: uuid.UUID, *, typed: str | None = None,
                errors: FormErrors | None = None, status: int = 200):
    person = sessions.person(request)
    api, base = sessions.api(request), f"/centres/{centre_of(request, person)}/classes/{class_id}"
    the_class = await api.get("scheduling", base)
    seats, version = await api.get_tagged("enrolment", f"{base}/capacity")
    return render(request, "capacity.html", status=status, c=the_class, seats=seats, version=version or "",
                  form={"capacity": str(seats["capacity"]) if typed is None else typed}, labels=labels,
                  errors=errors or FormErrors(("capacity",)))


@router.get("/classes/{class_id}/capacity")
async def capacity_form(request: Request, class_id: uuid.UUID):
    return await _page(request, class_id)


@router.post("/classes/{class_id}/capacity")
async def change_capacity(request: Request, class_id: uuid.UUID):
    person = sessions.person(request)
    form = await sessions.check_csrf(request)
    typed, errors = str(form.get("capacity", "")).strip(), FormErrors(("capacity",))
    message = _("Enter the number of seats as a whole number from 1 to 5000, not fewer than the seats taken")
    if not typed.isdigit():
        errors.add("capacity", message)
        return await _page(request, class_id, typed=typed, errors=errors, status=422)
    path = f"/centres/{centre_of(request, person)}/classes/{class_id}/capacity"
    try:
        changed = await sessions.api(request).send("PUT", "enrolment", path, {"capacity": int(typed)},
                                                   if_match=str(form.get("version") or "") or None)
    except Problem as problem:
        if problem.status == 412:
            errors.general.append(_(STALE))
            return await _page(request, class_id, errors=errors, status=409)
        if problem.status not in (409, 422):
            raise
        # fewer seats than those taken: the service's own words (how many are taken) beside the field
        errors.from_problem(problem, {"capacity": message}, i18n.current.get(),
                            codes={"capacity-below-seats-taken": "capacity"})
        return await _page(request, class_id, typed=typed, errors=errors, status=422)
    promoted = len(changed.get("promoted", []))
    request.session["flash"] = _("The class now has {n} seats.").format(n=changed["capacity"]) + (
        " " + _("{n} learner(s) moved up from the waiting list.").format(n=promoted) if promoted else "")
    return RedirectResponse(f"/classes/{class_id}#roster", status_code=303)
