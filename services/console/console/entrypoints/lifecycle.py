"""Moving a class along its life (open, start, complete) and cancelling it with a reason after a confirmation,
each on condition that the class is still the version the person saw (If-Match): a stale page is explained and
shown afresh, and nothing is done."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, labels, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of
from console.entrypoints.classes import class_page_of
from console.entrypoints.forms import FormErrors
from console.labels import N_
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext


STALE = N_("Someone else changed this class after you opened the page, so nothing was done. The page now shows "
           "the class as it is: look again, then do it again if it is still needed.")


async def _step(request: Request, class_id: uuid.UUID, step: str, form: dict, body: dict | None = None):
    """Move the class along, on condition that it is still the version the person saw (If-Match)."""
    person = sessions.person(request)
    try:
        await sessions.api(request).post("scheduling", f"/centres/{centre_of(request, person)}/classes/{class_id}/"
                                         f"{step}", body or {}, if_match=str(form.get("version") or "") or None)
    except Problem as problem:
        if problem.status == 412:
            return await class_page_of(request, class_id, status=409, problem=_(STALE))
        if problem.status != 409:
            raise
        return await class_page_of(request, class_id, status=409, problem=problem.detail_vi
                                 if i18n.current.get() == "vi" and problem.detail_vi else problem.detail)
    request.session["flash"] = _(labels.STEP_DONE[step])
    return RedirectResponse(f"/classes/{class_id}", status_code=303)


@router.get("/classes/{class_id}/cancel")
async def cancel_form(request: Request, class_id: uuid.UUID, version: str = ""):
    person = sessions.person(request)
    the_class = await sessions.api(request).get("scheduling", f"/centres/{centre_of(request, person)}/classes/{class_id}")
    return render(request, "class_cancel.html", c=the_class, version=version, form={"reason": ""},
                  errors=FormErrors(("reason",)))


@router.post("/classes/{class_id}/cancel")
async def cancel_class(request: Request, class_id: uuid.UUID):
    form = await sessions.check_csrf(request)
    reason = str(form.get("reason", "")).strip()
    try:
        return await _step(request, class_id, "cancel", form, {"reason": reason})
    except Problem as problem:
        if problem.status != 422:
            raise
        person = sessions.person(request)
        the_class = await sessions.api(request).get(
            "scheduling", f"/centres/{centre_of(request, person)}/classes/{class_id}")
        errors = FormErrors(("reason",))
        errors.from_problem(problem, {"reason": _("Enter why the class is cancelled; the learners' organisations "
                                                 "are told")}, i18n.current.get())
        return render(request, "class_cancel.html", status=422, c=the_class, version=form.get("version", ""),
                      form={"reason": reason}, errors=errors)


@router.post("/classes/{class_id}/{step}")
async def class_step(request: Request, class_id: uuid.UUID, step: str):
    form = await sessions.check_csrf(request)
    if step not in ("open", "start", "complete"):
        return render(request, "error.html", status=404, message=_("There is no such page."))
    return await _step(request, class_id, step, form)
