"""The centre's classes: the list, one class (details, sessions, roster) and planning or opening a class. Routes
translate and delegate: the services decide, the console shows."""
from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

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

SORTS = {"title": lambda c: text_sort_key(c["title"]), "starts_on": lambda c: c["starts_on"],
         "capacity": lambda c: c["capacity"], "status": lambda c: list(labels.CLASS_STATUSES).index(c["status"])}
PAGE_SIZE = 50  # rows a page of a list shows; all of the centre's classes are sorted first
CLASS_FIELDS = ("programme_type", "title", "capacity", "starts_on", "ends_on", "venue", "when_full", "status")


@router.get("/classes")
async def class_list(request: Request, status: str = "", programme_type: str = "", q: str = "",
                     sort: str = "starts_on", dir: str = "asc", page: int = 1, year: str = ""):
    person = sessions.person(request)
    if elsewhere := no_centre(request, person):
        return elsewhere
    centre = centre_of(request, person)
    year = year.strip() if year.strip().isdigit() and len(year.strip()) == 4 else ""  # a typo shows every year
    rows = await sessions.api(request).get("scheduling", f"/centres/{centre}/classes", status=status,
                                           programme_type=programme_type,
                                           starts_from=f"{year}-01-01" if year else None,
                                           starts_until=f"{year}-12-31" if year else None)
    if q:
        rows = [r for r in rows if q.casefold() in r["title"].casefold()]
    sort = sort if sort in SORTS else "starts_on"
    rows.sort(key=SORTS[sort], reverse=dir == "desc")
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return render(request, "classes.html", classes=rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], total=len(rows),
                  page=page, pages=pages, centre=centre, sort=sort, dir=dir,
                  filters={"status": status, "programme_type": programme_type, "q": q, "year": year},
                  labels=labels,
                  flash=request.session.pop("flash", None))


def _blank_form() -> dict[str, str]:
    return {"programme_type": "", "title": "", "capacity": "", "starts_on": "", "ends_on": "", "venue": "",
            "when_full": "waiting-list", "status": "planned", "key": str(uuid.uuid4())}


def _messages() -> dict[str, str]:
    return {
        "programme_type": _("Choose the programme"),
        "title": _("Enter the class's name, up to 200 characters"),
        "capacity": _("Enter the number of seats as a whole number from 1 to 5000"),
        "starts_on": _("Enter the first day as dd/mm/yyyy, for example 01/03/2027"),
        "ends_on": _("Enter the last day as dd/mm/yyyy, for example 10/03/2027"),
        "venue": _("Enter where the class meets"),
        "when_full": _("Choose what happens to a learner who comes when every seat is taken"),
        "status": _("Choose whether to plan the class or open it for enrolment now"),
    }


def _newclass_page_of(request: Request, form: dict[str, str], errors: FormErrors | None = None):
    return render(request, "class_new.html", status=422 if errors else 200, form=form,
                  errors=errors or FormErrors(CLASS_FIELDS), labels=labels)


@router.get("/classes/new")
async def new_class(request: Request):
    sessions.person(request)
    return _newclass_page_of(request, _blank_form())


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
    body: dict[str, object] = {k: form[k].strip() for k in ("programme_type", "title", "venue", "when_full", "status")}
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
    return _newclass_page_of(request, form, errors)


async def class_page_of(request: Request, class_id: uuid.UUID, *, status: int = 200, problem: str | None = None):
    person = sessions.person(request)
    centre, api = centre_of(request, person), sessions.api(request)
    base = f"/centres/{centre}/classes/{class_id}"

    async def class_and_programme():
        the_class, version = await api.get_tagged("scheduling", base)
        code = the_class.get("programme_code")  # its rules: whether enrolments must cite a dispatch decision
        programme = await unless_unknown(api.get("scheduling", f"/centres/{centre}/programmes/{code}")) if code \
            else None
        return the_class, version, programme

    # every service asked at once (only the programme waits for the class, which names it): the page waits for
    # the slowest answer, not for the sum of them
    (the_class, version, programme), class_sessions, glance, standings = await asyncio.gather(
        class_and_programme(),
        api.get("scheduling", f"{base}/sessions"),
        # the seats, the roster, the waiting list and the quotas in one request
        unless_unknown(api.get("enrolment", f"{base}/roster")),
        # each learner's attendance and whether they may still sit the final test (lost, or restored by a correction)
        unless_unknown(api.get("assessment", f"{base}/attendance"))
        if person.may("attendance:read") else asyncio.sleep(0))
    roster, waiting, quotas, seats = (glance["enrolments"], glance["waiting_list"], glance["quotas"],
                                      glance["seats"]) if glance is not None else (None, None, None, None)
    if roster is not None:
        roster.sort(key=lambda learner: name_sort_key(learner["full_name"]))
    names = {r["organisation_code"]: r["organisation_name"] for r in (roster or []) + (waiting or [])}
    class_sessions.sort(key=lambda s: (s["session_date"], s["starts_at"]))
    return render(request, "class.html", status=status, c=the_class, version=version, sessions=class_sessions,
                  roster=roster, waiting=waiting, quotas=quotas, seats=seats, programme=programme,
                  standings={r["learner_id"]: r for r in standings or []},
                  organisation_names=names, labels=labels,
                  flash=request.session.pop("flash", None), problem=problem)


async def unless_unknown(call):
    """None while enrolment or assessment has not yet heard of a new class (they learn of it from scheduling's
    events): a 404, or assessment's 409 class-unknown."""
    try:
        return await call
    except Problem as refused:
        if refused.status != 404 and refused.code != "class-unknown":
            raise
        return None


@router.get("/classes/{class_id}")
async def class_page(request: Request, class_id: uuid.UUID):
    return await class_page_of(request, class_id)
