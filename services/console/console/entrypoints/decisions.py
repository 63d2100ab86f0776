"""The dispatch decisions (quyết định cử đi học) the centre's enrolments cite, as enrolment keeps them: each with the
learners it sent, in whichever of the centre's classes; narrowed to one organisation or one decision's number."""
from __future__ import annotations

from fastapi import APIRouter, Request

from console import i18n, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of, no_centre
from console.entrypoints.forms import FormErrors
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
FIELDS = ("organisation", "number")


@router.get("/dispatch-decisions")
async def dispatch_decisions(request: Request, organisation: str = "", number: str = ""):
    person = sessions.person(request)
    if elsewhere := no_centre(request, person):
        return elsewhere
    typed, errors, found = {"organisation": organisation.strip(), "number": number.strip()}, FormErrors(FIELDS), []
    try:
        found = await sessions.api(request).get(
            "enrolment", f"/centres/{centre_of(request, person)}/dispatch-decisions", **typed)
    except Problem as problem:
        if problem.status != 422:
            raise
        named = " ".join(str(e.get("field", "")) for e in problem.errors)
        errors.add(*(("organisation", _("Enter the organisation's code: small letters, digits and hyphens, for "
                                        "example xa-hoa-loc")) if "organisation" in named else
                     ("number", _("Enter the decision's number as written on it, up to 50 characters"))))
    return render(request, "decisions.html", status=422 if errors else 200, decisions=found, form=typed,
                  errors=errors)
