"""The centre's classes: the list, one class (details, sessions, roster) and planning or opening a class. Routes
translate and delegate: the services decide, the console shows."""
from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, labels, sessions
from console.labels import N_
from console.adapters.api import Problem
from console.entrypoints.forms import FormErrors
from console.views import render
from ttct.domain.names import name_sort_key, text_sort_key

router = APIRouter(include_in_schema=False)
_ = i18n.gettext

SORTS = {"title": lambda c: text_sort_key(c["title"]), "starts_on": lambda c: c["starts_on"],
         "capacity": lambda c: c["capacity"], "status": lambda c: list(labels.CLASS_STATUSES).index(c["status"])}
CENTRE_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")  # the services' centre codes (ttct.contracts.envelope.Code)
PAGE_SIZE = 50  # rows a page of a list shows; all of the centre's classes are sorted first
CLASS_FIELDS = ("programme_type", "title", "capacity", "starts_on", "ends_on", "venue", "status")


def centre_of(request: Request, person: sessions.Person) -> str | None:
    """The centre whose pages these are: one of the person's own, or, for the province's administrator (who has
    no centre of their own), the one they chose."""
    if person.role == "province-admin":
        return request.session.get("centre")
    asked = request.query_params.get("centre")
    return asked if asked in person.centres else (person.centres[0] if person.centres else None)


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


@router.get("/classes")
async def class_list(request: Request, status: str = "", programme_type: str = "", q: str = "",
                     sort: str = "starts_on", dir: str = "asc", page: int = 1):
    person = sessions.person(request)
    centre = centre_of(request, person)
    if centre is None and person.role == "province-admin":
        return RedirectResponse("/centre", status_code=303)
    if centre is None:
        return render(request, "error.html", status=403, message=_("Your account is not linked to a centre."))
    rows = await sessions.api(request).get("scheduling", f"/centres/{centre}/classes", status=status,
                                           programme_type=programme_type)
    if q:
        rows = [r for r in rows if q.casefold() in r["title"].casefold()]
    sort = sort if sort in SORTS else "starts_on"
    rows.sort(key=SORTS[sort], reverse=dir == "desc")
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return render(request, "classes.html", classes=rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], total=len(rows),
                  page=page, pages=pages, centre=centre, sort=sort, dir=dir,
                  filters={"status": status, "programme_type": programme_type, "q": q}, labels=labels,
                  flash=request.session.pop("flash", None))


def _blank_form() -> dict[str, str]:
    return {"programme_type": "", "title": "", "capacity": "", "starts_on": "", "ends_on": "", "venue": "",
            "status": "planned", "key": str(uuid.uuid4())}


def _messages() -> dict[str, str]:
    return {
        "programme_type": _("Choose the programme"),
        "title": _("Enter the class's name, up to 200 characters"),
        "capacity": _("Enter the number of seats as a whole number from 1 to 5000"),
        "starts_on": _("Enter the first day as dd/mm/yyyy, for example 01/03/2027"),
        "ends_on": _("Enter the last day as dd/mm/yyyy, for example 10/03/2027"),
        "venue": _("Enter where the class meets"),
        "status": _("Choose whether to plan the class or open it for enrolment now"),
    }


def _new_class_page(request: Request, form: dict[str, str], errors: FormErrors | None = None):
    return render(request, "class_new.html", status=422 if errors else 200, form=form,
                  errors=errors or FormErrors(CLASS_FIELDS), labels=labels)


@router.get("/classes/new")
async def new_class(request: Request):
    sessions.person(request)
    return _new_class_page(request, _blank_form())


def _day(text: str) -> str | None:
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date().isoformat()
    except ValueError:
        return None


@router.post("/classes/new")
async def plan_class(request: Request):
    person = sessions.person(request)
    form = {**_blank_form(), **{k: str(v) for k, v in (await sessions.check_csrf(request)).items()}}
    centre, messages, errors = centre_of(request, person), _messages(), FormErrors(CLASS_FIELDS)
    body: dict[str, object] = {k: form[k].strip() for k in ("programme_type", "title", "venue", "status")}
    # only what JSON cannot carry is checked here; every rule is the service's
    if not form["capacity"].strip().isdigit():
        errors.add("capacity", messages["capacity"])
    for name in ("starts_on", "ends_on"):
        body[name] = _day(form[name])
        if body[name] is None:
            errors.add(name, messages[name])
    if not errors:
        body["capacity"] = int(form["capacity"])
        try:
            made = await sessions.api(request).post("scheduling", f"/centres/{centre}/classes", body,
                                                    idempotency_key=form["key"])
        except Problem as problem:
            if problem.status not in (409, 422):
                raise
            errors.from_problem(problem, messages, i18n.current.get())
        else:
            request.session["flash"] = _("The class has been planned.") if made["status"] == "planned" else _(
                "The class is open for enrolment.")
            return RedirectResponse(f"/classes/{made['class_id']}", status_code=303)
    form["key"] = str(uuid.uuid4())  # the corrected form is a new request, not a replay of the refused one
    return _new_class_page(request, form, errors)


async def _class_page(request: Request, class_id: uuid.UUID, *, status: int = 200, problem: str | None = None):
    person = sessions.person(request)
    centre, api = centre_of(request, person), sessions.api(request)
    the_class, version = await api.get_tagged("scheduling", f"/centres/{centre}/classes/{class_id}")
    base = f"/centres/{centre}/classes/{class_id}"
    class_sessions, roster, waiting, quotas = await asyncio.gather(
        api.get("scheduling", f"{base}/sessions"), _unless_unknown(api.get("enrolment", f"{base}/enrolments")),
        _unless_unknown(api.get("enrolment", f"{base}/waiting-list")),
        _unless_unknown(api.get("enrolment", f"{base}/quotas")))
    if roster is not None:
        roster.sort(key=lambda learner: name_sort_key(learner["full_name"]))
    names = {r["organisation_code"]: r["organisation_name"] for r in (roster or []) + (waiting or [])}
    class_sessions.sort(key=lambda s: (s["session_date"], s["starts_at"]))
    return render(request, "class.html", status=status, c=the_class, version=version, sessions=class_sessions,
                  roster=roster, waiting=waiting, quotas=quotas, organisation_names=names, labels=labels,
                  flash=request.session.pop("flash", None), problem=problem)


async def _unless_unknown(call):
    """None while enrolment has not yet heard of a new class (it learns of it from scheduling's event)."""
    try:
        return await call
    except Problem as refused:
        if refused.status != 404:
            raise
        return None


@router.get("/classes/{class_id}")
async def class_page(request: Request, class_id: uuid.UUID):
    return await _class_page(request, class_id)


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
            return await _class_page(request, class_id, status=409, problem=_(STALE))
        if problem.status != 409:
            raise
        return await _class_page(request, class_id, status=409, problem=problem.detail_vi
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
