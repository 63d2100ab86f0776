"""The province's map of sending organisations: its directory, and merging, renaming, moving and dissolving
organisations, each from a date and by a decision (its number and signing day). Every change is shown first as
what it will do (for a merge or a dissolution, what moves where: enrolment's and notification's previews, which
change nothing) and is made only once confirmed, with one Idempotency-Key from the form to the confirmation, so a
double submit changes the map once. Province admins only; enrolment decides and refuses in its own words."""
from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, labels, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import CENTRE_CODE
from console.entrypoints import province
from console.entrypoints.forms import FormErrors
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
N_ = labels.N_
DIRECTORY = "/sending-organisations"
PAGE = 50
DATED = ("effective_on", "decision_number", "decision_signed_on")
HEAD = ("head_name", "head_role", "head_phone", "head_email")
MERGE_FIELDS = ("predecessors", "successor_choice", "successor_code", "new_code", "new_name", "new_kind",
                "new_centre", "new_parent", *HEAD, *DATED)
CHANGE_FIELDS = {"rename": ("name", *DATED), "move": ("parent_code", *DATED),
                 "dissolve": ("successor_code", *DATED)}
TITLES = {"rename": N_("Rename an organisation"), "move": N_("Move an organisation under another"),
          "dissolve": N_("Dissolve an organisation")}
DONE = {"rename": N_("The organisation has been renamed."), "move": N_("The organisation has been moved."),
        "dissolve": N_("The organisation has been dissolved.")}
API_PATHS = {"rename": "rename", "move": "move", "dissolve": "dissolution"}
KINDS = {"centre-area": N_("Centre area"), "party-committee": N_("Party committee"), "commune": N_("Commune"),
         "mass-organisation": N_("Mass organisation"), "government": N_("Government body"),
         "party-cell": N_("Party cell")}
# a refusal whose code concerns one field goes beside it, in the service's own words
MERGE_CODES = {"organisation-succeeded": "predecessors", "organisation-unknown": "predecessors",
               "successor-details-required": "successor_code", "organisation-exists": "new_code",
               "head-contact-missing": "head_name", "two-heads": "head_name", "parent-unknown": "new_parent",
               "parent-not-allowed": "new_parent", "parent-required": "new_parent", "centre-mismatch": "new_parent"}
CHANGE_CODES = {
    "rename": {},
    "move": {"parent-unknown": "parent_code", "parent-not-allowed": "parent_code", "parent-required": "parent_code",
             "centre-mismatch": "parent_code", "organisation-unknown": "parent_code"},
    "dissolve": {"successor-required": "successor_code", "organisation-unknown": "successor_code"},
}
# where a field of the API's body is on the console's form
PATHS = {"effective_on": "effective_on", "decision": "decision_number", "decision.number": "decision_number",
         "decision.signed_on": "decision_signed_on", "predecessor_codes": "predecessors",
         "successor_code": "successor_code", "successor": "new_name", "successor.name": "new_name",
         "successor.kind": "new_kind", "successor.centre": "new_centre", "successor.parent_code": "new_parent",
         "successor.contacts": "head_name", "successor.contacts.name": "head_name",
         "successor.contacts.role": "head_role", "successor.contacts.phone": "head_phone",
         "successor.contacts.email": "head_email", "name": "name", "parent_code": "parent_code"}


def _admin(request: Request) -> sessions.Person:
    return province.admin(request, N_("Only the province's administrators change the map of organisations."))


def _messages() -> dict[str, str]:
    return {
        "predecessors": _("Enter the codes of the organisations to merge, separated by commas"),
        "successor_choice": _("Choose whether they merge into an organisation of the directory or a new one"),
        "successor_code": _("Enter the code of the organisation that takes them over"),
        "new_code": _("Enter the new organisation's code: small letters, digits and hyphens, for example xa-hau-loc"),
        "new_name": _("Enter the new organisation's name"),
        "new_kind": _("Choose the kind of organisation"),
        "new_centre": _("Enter the code of the centre whose area it is in, for example hau-loc"),
        "new_parent": _("Enter the code of the organisation above it, or leave it empty"),
        "head_name": _("Enter the name of the head of its party committee"),
        "head_role": _("Enter the head's position, for example bí thư"),
        "head_phone": _("Enter a phone number of 6 to 30 digits, or leave it empty"),
        "head_email": _("Enter an email address such as vanphong@hauloc.gov.vn, or leave it empty"),
        "effective_on": _("Enter the day the change holds from as dd/mm/yyyy, for example 01/07/2027"),
        "decision_number": _("Enter the decision's number as written on it, for example 1686/QĐ-UBND"),
        "decision_signed_on": _("Enter the day the decision was signed as dd/mm/yyyy, for example 15/06/2027"),
        "name": _("Enter the organisation's new name"),
        "parent_code": _("Enter the code of the organisation it moves under"),
    }


def _day(text: str) -> str | None:
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date().isoformat()
    except ValueError:
        return None


def _codes(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,;]+", text.strip().lower()) if c]


def _dated(form: dict[str, str], errors: FormErrors) -> dict:
    """The date and the decision every change carries; days the console cannot read are said beside them."""
    effective, signed = _day(form["effective_on"]), _day(form["decision_signed_on"])
    messages = _messages()
    if effective is None:
        errors.add("effective_on", messages["effective_on"])
    if not form["decision_number"].strip():
        errors.add("decision_number", messages["decision_number"])
    if signed is None:
        errors.add("decision_signed_on", messages["decision_signed_on"])
    return {"effective_on": effective, "decision": {"number": form["decision_number"].strip(), "signed_on": signed}}


def _refused(errors: FormErrors, problem: Problem, codes: dict[str, str], renamed: dict[str, str] | None = None,
             whole: tuple[str, str] | None = None):
    """The service's refusal beside the fields it concerns: a 422's field paths through PATHS (`renamed` for a
    form whose fields differ, e.g. a new successor's code), one about the body as a whole beside `whole` (field,
    message), a refusal's code through `codes`, else on top."""
    said = problem.detail_vi if i18n.current.get() == "vi" and problem.detail_vi else problem.detail
    messages, paths = _messages(), {**PATHS, **(renamed or {})}
    for error in problem.errors:
        if error.get("field") == "body" and whole:
            errors.add(*whole)
        path = re.sub(r"\.\d+", "", str(error.get("field", "")).removeprefix("body.")).removeprefix("body")
        while path and path not in paths:
            path = path.rpartition(".")[0]
        if path and paths[path] in errors.fields:
            errors.add(paths[path], messages[paths[path]])
    if not errors and problem.code in codes and codes[problem.code] in errors.fields:
        errors.add(codes[problem.code], said)
    if not errors:
        errors.general.append(said)


async def _organisation(request: Request, code: str) -> dict:
    if not CENTRE_CODE.fullmatch(code):
        raise Problem(404, "not-found", "no such organisation", _("This page does not exist."))
    return await sessions.api(request).get("enrolment", f"{DIRECTORY}/{code}")


async def _whole_directory(request: Request) -> list[dict]:
    return await sessions.api(request).get("enrolment", DIRECTORY)


# ---- the directory --------------------------------------------------------------------------------------------

@router.get("/province/organisations")
async def directory(request: Request, centre: str = "", kind: str = "", cursor: str = ""):
    _admin(request)
    centre, kind = centre.strip().lower(), kind if kind in KINDS else ""
    rows, after = await sessions.api(request).get_page(
        "enrolment", DIRECTORY, centre=centre if CENTRE_CODE.fullmatch(centre) else None, kind=kind or None,
        cursor=cursor or None, limit=PAGE)
    names = {r["code"]: r["name"] for r in rows}
    return render(request, "map_directory.html", rows=rows, names=names, after=after, first=not cursor,
                  filters={"centre": centre, "kind": kind}, kinds=KINDS, flash=request.session.pop("flash", None))


@router.get("/province/organisations/merge")
async def merge_form(request: Request):
    _admin(request)
    chosen = [c for c in request.query_params.getlist("predecessor") if CENTRE_CODE.fullmatch(c)]
    form = _blank_merge()
    form["predecessors"] = ", ".join(chosen)
    if chosen:  # a new successor is most likely in the area of the first organisation merged
        try:
            form["new_centre"] = (await _organisation(request, chosen[0]))["centre"]
        except Problem:
            pass
    return _merge_page(request, form)


def _blank_merge() -> dict[str, str]:
    return {**{name: "" for name in MERGE_FIELDS}, "successor_choice": "existing", "head_role": "bí thư",
            "key": str(uuid.uuid4())}


def _merge_page(request: Request, form: dict[str, str], errors: FormErrors | None = None):
    return render(request, "map_merge.html", status=422 if errors else 200, form=form, kinds=KINDS,
                  errors=errors or FormErrors(MERGE_FIELDS))


def _merge_body(form: dict[str, str], errors: FormErrors) -> dict:
    body: dict = {"predecessor_codes": _codes(form["predecessors"]), **_dated(form, errors)}
    if not body["predecessor_codes"]:
        errors.add("predecessors", _messages()["predecessors"])
    if form["successor_choice"] != "new":
        return {**body, "successor_code": form["successor_code"].strip().lower()}
    head = {"name": form["head_name"].strip(), "role": form["head_role"].strip(), "is_head": True,
            "phone": form["head_phone"].strip() or None, "email": form["head_email"].strip() or None}
    return {**body, "successor_code": form["new_code"].strip().lower(), "successor": {
        "name": form["new_name"].strip(), "kind": form["new_kind"], "centre": form["new_centre"].strip().lower(),
        "parent_code": form["new_parent"].strip().lower() or None,
        "contacts": [head] if head["name"] or head["phone"] or head["email"] else []}}


@router.post("/province/organisations/merge")
async def merge(request: Request):
    _admin(request)
    posted = {k: str(v) for k, v in (await sessions.check_csrf(request)).items()}
    action = posted.pop("action", "preview")
    form = {**_blank_merge(), **{k: v for k, v in posted.items() if k in (*MERGE_FIELDS, "key")}}
    if action == "edit":
        return _merge_page(request, form)
    errors = FormErrors(MERGE_FIELDS)
    body = _merge_body(form, errors)
    if errors:
        return _merge_page(request, form, errors)
    new = form["successor_choice"] == "new"
    renamed = {"successor_code": "new_code"} if new else {}
    api = sessions.api(request)
    try:
        if action == "confirm":
            merged = await api.post("enrolment", f"{DIRECTORY}/merges", body, idempotency_key=form["key"])
        else:
            found, mail = await asyncio.gather(
                api.post("enrolment", f"{DIRECTORY}/merges/preview", body),
                api.get("notification", "/organisation-successions/preview", successor=body["successor_code"],
                        predecessor=body["predecessor_codes"]))
    except Problem as problem:
        if problem.status not in (404, 409, 422):
            raise
        _refused(errors, problem, MERGE_CODES, renamed, whole=(
            "predecessors", _("Name each organisation merged once, and not the organisation they merge into")))
        form["key"] = str(uuid.uuid4())  # the corrected form is a new request, not a replay of the refused one
        return _merge_page(request, form, errors)
    if action == "confirm":
        request.session["flash"] = _("{predecessors} merged into {successor} from {day}.").format(
            predecessors=", ".join(body["predecessor_codes"]), successor=merged["name"],
            day=i18n.day(body["effective_on"]))
        return RedirectResponse(f"/province/organisations/{merged['code']}", status_code=303)
    return render(request, "map_preview.html", change="merge", form=form, body=body, preview=found,
                  mail=_mail_by_code(mail), new=new, action="/province/organisations/merge",
                  title=_("Check the merge before confirming it"))


def _mail_by_code(mail: dict | None) -> dict[str, dict]:
    """Notification's preview by organisation code: the endpoints to be disabled, the notices to re-address."""
    if not mail:
        return {}
    return {m["code"]: m for m in [mail["successor"], *mail["predecessors"]]}


# ---- one organisation and the changes of one ------------------------------------------------------------------

@router.get("/province/organisations/{code}")
async def organisation(request: Request, code: str):
    _admin(request)
    found, everyone = await asyncio.gather(_organisation(request, code), _whole_directory(request))
    names = {o["code"]: o["name"] for o in everyone}
    merged = [o for o in everyone if o["successor_code"] == code]
    return render(request, "map_organisation.html", o=found, names=names, merged=merged, kinds=KINDS,
                  flash=request.session.pop("flash", None))


def _blank_change(o: dict, change: str) -> dict[str, str]:
    return {**{name: "" for name in CHANGE_FIELDS[change]}, "name": o["name"] if change == "rename" else "",
            "key": str(uuid.uuid4())}


def _change_page(request: Request, o: dict, change: str, form: dict, errors: FormErrors | None = None):
    return render(request, "map_change.html", status=422 if errors else 200, o=o, change=change, form=form,
                  title=_(TITLES[change]), errors=errors or FormErrors(CHANGE_FIELDS[change]))


@router.get("/province/organisations/{code}/{change}")
async def change_form(request: Request, code: str, change: str):
    _admin(request)
    if change not in CHANGE_FIELDS:
        raise Problem(404, "not-found", "no such page", _("This page does not exist."))
    o = await _organisation(request, code)
    return _change_page(request, o, change, _blank_change(o, change))


def _change_body(change: str, form: dict[str, str], errors: FormErrors) -> dict:
    body = _dated(form, errors)
    if change == "rename":
        return {**body, "name": form["name"].strip()}
    if change == "move":
        if not CENTRE_CODE.fullmatch(form["parent_code"].strip().lower()):
            errors.add("parent_code", _messages()["parent_code"])
        return {**body, "parent_code": form["parent_code"].strip().lower()}
    return {**body, "successor_code": form["successor_code"].strip().lower() or None}


@router.post("/province/organisations/{code}/{change}")
async def change(request: Request, code: str, change: str):
    _admin(request)
    if change not in CHANGE_FIELDS:
        raise Problem(404, "not-found", "no such page", _("This page does not exist."))
    posted = {k: str(v) for k, v in (await sessions.check_csrf(request)).items()}
    o = await _organisation(request, code)
    action = posted.pop("action", "preview")
    form = {**_blank_change(o, change), **{k: v for k, v in posted.items() if k in (*CHANGE_FIELDS[change], "key")}}
    if action == "edit":
        return _change_page(request, o, change, form)
    errors = FormErrors(CHANGE_FIELDS[change])
    body = _change_body(change, form, errors)
    if errors:
        return _change_page(request, o, change, form, errors)
    api = sessions.api(request)
    preview = mail = other = None
    try:
        if action == "confirm":
            await api.post("enrolment", f"{DIRECTORY}/{code}/{API_PATHS[change]}", body, idempotency_key=form["key"])
        elif change == "dissolve":
            preview = await api.post("enrolment", f"{DIRECTORY}/{code}/dissolution/preview", body)
            other, mail = await asyncio.gather(
                _organisation(request, preview["successor_code"]),
                api.get("notification", "/organisation-successions/preview", successor=preview["successor_code"],
                        predecessor=[code]))
        elif change == "move":  # no preview in the API: the new parent as the directory knows it
            other = await _organisation(request, body["parent_code"])
    except Problem as problem:
        if problem.status not in (404, 409, 422):
            raise
        _refused(errors, problem, CHANGE_CODES[change])
        form["key"] = str(uuid.uuid4())
        return _change_page(request, o, change, form, errors)
    if action == "confirm":
        request.session["flash"] = _(DONE[change])
        return RedirectResponse(f"/province/organisations/{code}", status_code=303)
    return render(request, "map_preview.html", change=change, o=o, other=other, form=form, body=body,
                  preview=preview, mail=_mail_by_code(mail), action=f"/province/organisations/{code}/{change}",
                  title=_("Check the change before confirming it"))
