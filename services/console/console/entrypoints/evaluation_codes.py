"""One-time codes for a class's learners to fill in their evaluation form themselves: assessment issues them and
keeps only their hashes, so the page that shows them is the only time they are seen: printed on slips and handed
out at random, a form says nothing of who sent it."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from console import i18n, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of
from console.entrypoints.evaluation import PAGE_FIELDS, evaluation_page_of
from console.entrypoints.forms import FormErrors
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext


@router.post("/classes/{class_id}/evaluation/codes")
async def issue_codes(request: Request, class_id: uuid.UUID):
    person = sessions.person(request)
    form = {k: str(v) for k, v in (await sessions.check_csrf(request)).items()}
    typed = {"count": form.get("count", "").strip(), "replace_unused": "on" if form.get("replace_unused") else ""}
    errors, message = FormErrors(PAGE_FIELDS), _("Enter how many codes as a whole number from 1 to 5000, or leave it "
                                                 "empty for one each for the learners without a form or a code")
    if typed["count"] and not typed["count"].isdigit():
        errors.add("count", message)
        return await evaluation_page_of(request, class_id, typed=typed, errors=errors, status=422)
    body = {"count": int(typed["count"]) if typed["count"] else None, "replace_unused": bool(typed["replace_unused"])}
    api = sessions.api(request)
    base = f"/centres/{centre_of(request, person)}/classes/{class_id}"
    try:
        issued = await api.post("assessment", f"{base}/evaluation-codes", body,
                                idempotency_key=form.get("key") or None)
    except Problem as problem:
        if problem.status not in (409, 422):
            raise
        # more codes than learners without a form or a code: the service's words beside the number
        errors.from_problem(problem, {"count": message}, i18n.current.get(),
                            codes={"evaluation-codes-exceed-learners": "count"})
        return await evaluation_page_of(request, class_id, typed=typed, errors=errors, status=422)
    the_class = await api.get("scheduling", base)
    survey = f"{request.app.state.settings.public_url.rstrip('/')}/evaluate"
    return render(request, "evaluation_codes.html", c=the_class, codes=issued["codes"], survey=survey)
