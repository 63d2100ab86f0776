"""A sending organisation's quota (chỉ tiêu) in a class: set, changed or removed on condition that the roster is
still the version the person saw (If-Match); raising it lets enrolment promote the organisation's waiting learners."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of
from console.entrypoints.forms import FormErrors
from console.labels import N_
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
STALE = N_("The class's list changed after you opened this page, so the quota was not set. The page now shows it as "
           "it is: look again, then set it again if it is still needed.")


async def _page(request: Request, class_id: uuid.UUID, organisation: str, *, typed: str | None = None,
                errors: FormErrors | None = None, status: int = 200):
    person = sessions.person(request)
    api, base = sessions.api(request), f"/centres/{centre_of(request, person)}/classes/{class_id}"
    the_class = await api.get("scheduling", base)
    quota, version = await api.get_tagged("enrolment", f"{base}/quotas/{organisation}")
    shown = typed if typed is not None else ("" if quota["quota"] is None else str(quota["quota"]))
    return render(request, "quota.html", status=status, c=the_class, q=quota, version=version or "",
                  form={"quota": shown}, errors=errors or FormErrors(("quota",)))


@router.get("/classes/{class_id}/quotas/{organisation}")
async def quota_form(request: Request, class_id: uuid.UUID, organisation: str):
    return await _page(request, class_id, organisation)


@router.post("/classes/{class_id}/quotas/{organisation}")
async def set_quota(request: Request, class_id: uuid.UUID, organisation: str):
    person = sessions.person(request)
    form = await sessions.check_csrf(request)
    typed, errors = str(form.get("quota", "")).strip(), FormErrors(("quota",))
    message = _("Enter the most seats the organisation's learners may hold, a whole number from 0 to 5000, or "
                "leave it empty for no limit")
    if typed and not typed.isdigit():
        errors.add("quota", message)
        return await _page(request, class_id, organisation, typed=typed, errors=errors, status=422)
    path = f"/centres/{centre_of(request, person)}/classes/{class_id}/quotas/{organisation}"
    try:
        changed = await sessions.api(request).send("PUT", "enrolment", path, {"quota": int(typed) if typed else None},
                                                   if_match=str(form.get("version") or "") or None)
    except Problem as problem:
        if problem.status == 412:
            errors.general.append(_(STALE))
            return await _page(request, class_id, organisation, errors=errors, status=409)
        if problem.status not in (409, 422):
            raise
        errors.from_problem(problem, {"quota": message}, i18n.current.get())
        return await _page(request, class_id, organisation, typed=typed, errors=errors, status=422)
    promoted = len(changed.get("promoted", []))
    request.session["flash"] = _("The quota has been set.") + (
        " " + _("{n} learner(s) moved up from the waiting list.").format(n=promoted) if promoted else "")
    return RedirectResponse(f"/classes/{class_id}#quotas", status_code=303)
