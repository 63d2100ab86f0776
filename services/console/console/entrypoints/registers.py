"""The registers a centre's sessions are scheduled from: the province's lecturers (any centre may add to it, and
lecturers teach at every centre) and the centre's own venues, each listed in Vietnamese order and added to by a
form. Routes translate and delegate: scheduling keeps the registers and refuses in its own words."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, labels, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of, no_centre
from console.entrypoints.forms import FormErrors
from console.views import render
from ttct.domain.names import name_sort_key, text_sort_key

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
LECTURER_FIELDS = ("full_name", "kind", "position")
VENUE_FIELDS = ("name", "seats")
KINDS = tuple(k for k in labels.LECTURER_KINDS if k)  # the API's four codes; None is only for hours uncounted
# kinds that belong to a centre (scheduling needs their home centre): the centre whose pages these are
BELONGING = ("in_house", "part_time")


@router.get("/registers")
async def registers(request: Request):
    sessions.person(request)
    return render(request, "registers.html")


# ---- lecturers --------------------------------------------------------------------------------------------------

@router.get("/lecturers")
async def lecturer_list(request: Request, kind: str = ""):
    sessions.person(request)
    kind = kind if kind in KINDS else ""  # an unknown kind shows every lecturer, as a typo in a filter should
    rows = await sessions.api(request).get_every_page("scheduling", "/lecturers", kind=kind)
    rows.sort(key=lambda lecturer: name_sort_key(lecturer["full_name"]))
    return render(request, "lecturers.html", lecturers=rows, kind=kind, kinds=KINDS, labels=labels,
                  flash=request.session.pop("flash", None))


def _lecturer_messages() -> dict[str, str]:
    return {"full_name": _("Enter the lecturer's full name, up to 200 characters"),
            "kind": _("Choose the kind of lecturer"),
            "position": _("Enter the position in up to 200 characters, or leave it empty")}


def _lecturer_page(request: Request, form: dict[str, str], errors: FormErrors | None = None):
    person = sessions.person(request)
    return render(request, "lecturer_new.html", status=422 if errors else 200, form=form, kinds=KINDS,
                  labels=labels, centre=centre_of(request, person), errors=errors or FormErrors(LECTURER_FIELDS))


@router.get("/lecturers/new")
async def new_lecturer(request: Request):
    return _lecturer_page(request, {**{k: "" for k in LECTURER_FIELDS}, "key": str(uuid.uuid4())})


@router.post("/lecturers/new")
async def register_lecturer(request: Request):
    person = sessions.person(request)
    posted = await sessions.check_csrf(request)
    form = {k: str(posted.get(k, "")) for k in (*LECTURER_FIELDS, "key")}
    errors, centre = FormErrors(LECTURER_FIELDS), centre_of(request, person)
    body = {"full_name": " ".join(form["full_name"].split()), "kind": form["kind"],
            "position": " ".join(form["position"].split()) or None,
            "home_centre": centre if form["kind"] in BELONGING else None}
    if form["kind"] in BELONGING and centre is None:  # the province's administrator, before choosing a centre
        errors.add("kind", _("Choose a centre first (Change centre): the centre's own and part-time lecturers "
                             "belong to one"))
    if not errors:
        try:
            await sessions.api(request).post("scheduling", "/lecturers", body, idempotency_key=form["key"])
        except Problem as problem:
            if problem.status not in (409, 422):
                raise
            errors.from_problem(problem, _lecturer_messages(), i18n.current.get(), whole="kind")
        else:
            request.session["flash"] = _("{name} has been added to the province's lecturers.").format(
                name=body["full_name"])
            return RedirectResponse("/lecturers", status_code=303)
    form["key"] = str(uuid.uuid4())  # the corrected form is a new request, not a replay of the refused one
    return _lecturer_page(request, form, errors)


# ---- venues -----------------------------------------------------------------------------------------------------

@router.get("/venues")
async def venue_list(request: Request):
    person = sessions.person(request)
    if elsewhere := no_centre(request, person):
        return elsewhere
    centre = centre_of(request, person)
    rows = await sessions.api(request).get_every_page("scheduling", f"/centres/{centre}/venues")
    rows.sort(key=lambda venue: text_sort_key(venue["name"]))
    return render(request, "venues.html", venues=rows, centre=centre, flash=request.session.pop("flash", None))


def _venue_messages() -> dict[str, str]:
    return {"name": _("Enter the venue's name, up to 200 characters"),
            "seats": _("Enter the number of seats as a whole number from 1 to 10000, or leave it empty")}


def _venue_page(request: Request, form: dict[str, str], errors: FormErrors | None = None):
    person = sessions.person(request)
    return render(request, "venue_new.html", status=422 if errors else 200, form=form,
                  centre=centre_of(request, person), errors=errors or FormErrors(VENUE_FIELDS))


@router.get("/venues/new")
async def new_venue(request: Request):
    person = sessions.person(request)
    if elsewhere := no_centre(request, person):
        return elsewhere
    return _venue_page(request, {**{k: "" for k in VENUE_FIELDS}, "key": str(uuid.uuid4())})


@router.post("/venues/new")
async def add_venue(request: Request):
    person = sessions.person(request)
    if elsewhere := no_centre(request, person):
        return elsewhere
    posted = await sessions.check_csrf(request)
    form = {k: str(posted.get(k, "")) for k in (*VENUE_FIELDS, "key")}
    messages, errors = _venue_messages(), FormErrors(VENUE_FIELDS)
    seats = form["seats"].strip()
    if seats and not seats.isdigit():  # only what JSON cannot carry is checked here
        errors.add("seats", messages["seats"])
    if not errors:
        body = {"name": " ".join(form["name"].split()), "seats": int(seats) if seats else None}
        try:
            await sessions.api(request).post("scheduling", f"/centres/{centre_of(request, person)}/venues", body,
                                             idempotency_key=form["key"])
        except Problem as problem:
            if problem.status not in (409, 422):
                raise
            errors.from_problem(problem, messages, i18n.current.get(), codes={"venue-exists": "name"})
        else:
            request.session["flash"] = _("{name} has been added to the centre's venues.").format(name=body["name"])
            return RedirectResponse("/venues", status_code=303)
    form["key"] = str(uuid.uuid4())
    return _venue_page(request, form, errors)
