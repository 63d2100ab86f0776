"""Which centre's pages a person sees: their own centre, or, for the province's administrator, the one chosen."""
from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, sessions
from console.entrypoints.forms import FormErrors
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
CENTRE_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")  # the services' centre codes (ttct.contracts.envelope.Code)


def centre_of(request: Request, person: sessions.Person) -> str | None:
    """The centre whose pages these are: one of the person's own, or, for the province's administrator (who has
    no centre of their own), the one they chose."""
    if person.role == "province-admin":
        return request.session.get("centre")
    asked = request.query_params.get("centre")
    return asked if asked in person.centres else (person.centres[0] if person.centres else None)


def no_centre(request: Request, person: sessions.Person):
    """What a page about one centre shows a person who has none yet: the province's administrator chooses one; anyone
    else is told their account has none. None when there is a centre."""
    if centre_of(request, person) is not None:
        return None
    if person.role == "province-admin":
        return RedirectResponse("/centre", status_code=303)
    return render(request, "error.html", status=403, message=i18n.gettext("Your account is not linked to a centre."))


@router.get("/centre")
async def choose_centre(request: Request, code: str = ""):
    person = sessions.person(request)
    code = code.strip().lower()
    if person.role == "province-admin" and CENTRE_CODE.fullmatch(code):
        request.session["centre"] = code
        return RedirectResponse("/classes", status_code=303)
    errors = FormErrors(("code",))
    if code:
        errors.add("code", _("Enter the centre's code: small letters, digits and hyphens, for example hau-loc"))
    return render(request, "centre.html", status=422 if code else 200, form={"code": code}, errors=errors)
