"""Changes to a class's roster: withdrawing a learner (a reason, a confirmation) or transferring them to another
class of the centre; enrolment promotes whoever waits next into the freed seat."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of
from console.entrypoints.forms import FormErrors
from console.views import render
from ttct.domain.names import text_sort_key

router = APIRouter(include_in_schema=False)
_ = i18n.gettext


async def _learner(request: Request, class_id: uuid.UUID, learner_id: uuid.UUID) -> tuple[dict, dict]:
    person = sessions.person(request)
    api, base = sessions.api(request), f"/centres/{centre_of(request, person)}/classes/{class_id}"
    the_class = await api.get("scheduling", base)
    found = [r for r in await api.get("enrolment", f"{base}/enrolments") if r["learner_id"] == str(learner_id)]
    if not found:
        raise Problem(404, "not-found", "no such learner in this class", _("This learner is not in the class."))
    return the_class, found[0]


@router.get("/classes/{class_id}/learners/{learner_id}/withdraw")
async def withdraw_form(request: Request, class_id: uuid.UUID, learner_id: uuid.UUID):
    the_class, learner = await _learner(request, class_id, learner_id)
    return render(request, "withdraw.html", c=the_class, learner=learner, form={"reason": ""},
                  errors=FormErrors(("reason",)))


@router.post("/classes/{class_id}/learners/{learner_id}/withdraw")
async def withdraw(request: Request, class_id: uuid.UUID, learner_id: uuid.UUID):
    person = sessions.person(request)
    form = await sessions.check_csrf(request)
    reason = str(form.get("reason", "")).strip()
    path = f"/centres/{centre_of(request, person)}/classes/{class_id}/enrolments/{learner_id}/withdraw"
    try:
        done = await sessions.api(request).post("enrolment", path, {"reason": reason})
    except Problem as problem:
        if problem.status not in (409, 422):
            raise
        the_class, learner = await _learner(request, class_id, learner_id)
        errors = FormErrors(("reason",))
        errors.from_problem(problem, {"reason": _("Enter why the learner leaves the class, up to 500 characters")},
                            i18n.current.get())
        return render(request, "withdraw.html", status=422, c=the_class, learner=learner, form={"reason": reason},
                      errors=errors)
    promoted = len(done.get("promoted", []))
    request.session["flash"] = _("The learner has been withdrawn.") + (
        " " + _("{n} learner(s) moved up from the waiting list.").format(n=promoted) if promoted else "")
    return RedirectResponse(f"/classes/{class_id}#roster", status_code=303)


async def _transfer_page(request: Request, class_id: uuid.UUID, learner_id: uuid.UUID, chosen: str = "",
                         errors: FormErrors | None = None):
    person = sessions.person(request)
    the_class, learner = await _learner(request, class_id, learner_id)
    targets = [c for c in await sessions.api(request).get(
        "scheduling", f"/centres/{centre_of(request, person)}/classes", status="open") if c["class_id"] != str(class_id)]
    targets.sort(key=lambda c: (c["starts_on"], text_sort_key(c["title"])))
    return render(request, "transfer.html", status=422 if errors else 200, c=the_class, learner=learner,
                  targets=targets, chosen=chosen, errors=errors or FormErrors(("target_class_id",)))


@router.get("/classes/{class_id}/learners/{learner_id}/transfer")
async def transfer_form(request: Request, class_id: uuid.UUID, learner_id: uuid.UUID):
    return await _transfer_page(request, class_id, learner_id)


@router.post("/classes/{class_id}/learners/{learner_id}/transfer")
async def transfer(request: Request, class_id: uuid.UUID, learner_id: uuid.UUID):
    person = sessions.person(request)
    form = await sessions.check_csrf(request)
    target = str(form.get("target_class_id", ""))
    path = f"/centres/{centre_of(request, person)}/classes/{class_id}/enrolments/{learner_id}/transfer"
    try:
        moved = await sessions.api(request).post("enrolment", path, {"target_class_id": target or None})
    except Problem as problem:
        if problem.status not in (404, 409, 422):
            raise
        errors = FormErrors(("target_class_id",))
        errors.from_problem(problem, {"target_class_id": _("Choose the class the learner moves to")},
                            i18n.current.get(), whole="target_class_id")
        return await _transfer_page(request, class_id, learner_id, target, errors)
    request.session["flash"] = (_("The learner has been moved and holds seat {seat} there.").format(
        seat=moved["seat_number"]) if moved["status"] == "enrolled" else _(
        "The learner has been moved and waits for a seat there (place {position}).").format(position=moved["position"]))
    return RedirectResponse(f"/classes/{moved['to_class_id']}#roster", status_code=303)
