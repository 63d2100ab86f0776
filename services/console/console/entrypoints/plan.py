"""A class's plan of sessions changed by the centre's decision (its reason kept), on condition that the class is
still the version the person saw (If-Match); scheduling refuses fewer sessions than those already scheduled, and
assessment checks every learner's eligibility again over the new plan."""
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
FIELDS = ("planned_sessions", "reason")
STALE = N_("Someone else changed this class after you opened the page, so the plan was not changed. The page now "
           "shows the class as it is: look again, then change it again if it is still needed.")


def _messages() -> dict[str, str]:
    return {"planned_sessions": _("Enter the number of sessions as a whole number from 1 to 500, not fewer than "
                                  "those already scheduled"),
            "reason": _("Enter why the plan changes, for example the number and date of the centre's decision")}


async def _page(request: Request, class_id: uuid.UUID, *, typed: dict[str, str] | None = None,
                errors: FormErrors | None = None, status: int = 200):
    person = sessions.person(request)
    the_class, version = await sessions.api(request).get_tagged(
        "scheduling", f"/centres/{centre_of(request, person)}/classes/{class_id}")
    form = typed or {"planned_sessions": str(the_class["planned_sessions"]), "reason": ""}
    return render(request, "plan.html", status=status, c=the_class, version=version or "", form=form,
                  errors=errors or FormErrors(FIELDS))


@router.get("/classes/{class_id}/plan")
async def plan_form(request: Request, class_id: uuid.UUID):
    return await _page(request, class_id)


@router.post("/classes/{class_id}/plan")
async def change_plan(request: Request, class_id: uuid.UUID):
    person = sessions.person(request)
    form = await sessions.check_csrf(request)
    typed = {k: str(form.get(k, "")).strip() for k in FIELDS}
    errors = FormErrors(FIELDS)
    if not typed["planned_sessions"].isdigit():
        errors.add("planned_sessions", _messages()["planned_sessions"])
        return await _page(request, class_id, typed=typed, errors=errors, status=422)
    path = f"/centres/{centre_of(request, person)}/classes/{class_id}/plan"
    try:
        await sessions.api(request).send("PUT", "scheduling", path, {
            "planned_sessions": int(typed["planned_sessions"]), "reason": typed["reason"]},
            if_match=str(form.get("version") or "") or None)
    except Problem as problem:
        if problem.status == 412:
            errors.general.append(_(STALE))
            return await _page(request, class_id, errors=errors, status=409)
        if problem.status not in (409, 422):
            raise
        errors.from_problem(problem, _messages(), i18n.current.get(),
                            codes={"plan-below-scheduled": "planned_sessions"})
        return await _page(request, class_id, typed=typed, errors=errors, status=422)
    request.session["flash"] = _("The class now plans {n} sessions.").format(n=int(typed["planned_sessions"]))
    return RedirectResponse(f"/classes/{class_id}#sessions", status_code=303)
