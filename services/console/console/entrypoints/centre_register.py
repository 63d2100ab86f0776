"""The province's register of centres: the centres registered (name, address, parent body, whether merged into or a
site of another), and registering a centre, renaming one and merging centres (into one, or as sites of another),
each from a date; a rename and a merge by a decision. Every change is shown first as what it will do (for a merge,
enrolment's preview of the classes, learners and enrolments of each centre, which changes nothing) and is made only
once confirmed, with one Idempotency-Key from the form to the confirmation, so a double submit changes the register
once. Province admins only; enrolment decides and refuses in its own words. The path is not /province/centres/…,
which is a centre's figures."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, labels, sessions
from console.adapters.api import Problem
from console.entrypoints import province
from console.entrypoints.centres import CENTRE_CODE
from console.entrypoints.forms import FormErrors
from console.entrypoints.reorganisation import DATED, _codes, _dated, _day
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
N_ = labels.N_
REGISTER = "/province-centres"
HOME = "/province/centres-register"
NEW_FIELDS = ("code", "name", "address", "parent_body", "effective_on")
RENAME_FIELDS = ("name", *DATED)
MERGE_FIELDS = ("predecessors", "successor_code", "kind", *DATED)
KINDS = {"merged": N_("Merged into it: the centres merged are gone, their staff work for it"),
         "site": N_("Made its sites: each carries on as a site of it, with its own staff")}
# where a field of the API's body is on the console's form
PATHS = {"effective_on": "effective_on", "decision": "decision_number", "decision.number": "decision_number",
         "decision.signed_on": "decision_signed_on", "predecessor_codes": "predecessors",
         "successor_code": "successor_code", "kind": "kind", "code": "code", "name": "name", "address": "address",
         "parent_body": "parent_body"}


def _admin(request: Request) -> sessions.Person:
    return province.admin(request, N_("Only the province's administrators change the register of centres."))


def _messages() -> dict[str, str]:
    return {
        "code": _("Enter the centre's code as its classes use it: small letters, digits and hyphens, for example "
                  "hau-loc"),
        "name": _("Enter the centre's name, for example Trung tâm Chính trị huyện Hậu Lộc"),
        "address": _("Enter the centre's address, or leave it empty"),
        "parent_body": _("Enter the body it belongs to, or leave it empty"),
        "predecessors": _("Enter the codes of the centres to merge, separated by commas"),
        "successor_code": _("Enter the code of the centre that takes them over"),
        "kind": _("Choose whether they are merged into it or become its sites"),
        "effective_on": _("Enter the day the change holds from as dd/mm/yyyy, for example 01/07/2027"),
        "decision_number": _("Enter the decision's number as written on it, for example 1686/QĐ-UBND"),
        "decision_signed_on": _("Enter the day the decision was signed as dd/mm/yyyy, for example 15/06/2027"),
    }


def _refused(errors: FormErrors, problem: Problem, whole: str, near: str | None = None) -> None:
    """The service's refusal: a 422's fields beside them, with the console's message; one about the body as a
    whole (a centre named twice, or merged into itself) beside `whole`; a refusal naming a centre (unknown, merged
    already, registered already) beside `near`, in the service's own words; any other on top."""
    said = problem.detail_vi if i18n.current.get() == "vi" and problem.detail_vi else problem.detail
    messages = _messages()
    for error in problem.errors:
        path = str(error.get("field", "")).removeprefix("body").removeprefix(".")
        if not path:
            errors.add(whole, _("Name each centre merged once, and not the centre they merge into"))
            continue
        path = ".".join(p for p in path.split(".") if not p.isdigit())
        while path and path not in PATHS:
            path = path.rpartition(".")[0]
        if path and PATHS[path] in errors.fields:
            errors.add(PATHS[path], messages[PATHS[path]])
    if not errors and near and problem.code in ("centre-unknown", "centre-merged", "centre-exists"):
        errors.add(near, said)
    if not errors:
        errors.general.append(said)


def _concerned(problem: Problem, body: dict) -> str:
    """The field a refusal naming a centre goes beside: the successor's if it names the successor and none of the
    centres merged (the successor unknown, or merged already itself), else the centres merged'."""
    named = set((problem.detail or "").split())
    if body["successor_code"] in named and not named & set(body["predecessor_codes"]):
        return "successor_code"
    return "predecessors"


async def _register(request: Request) -> list[dict]:
    return await sessions.api(request).get("enrolment", REGISTER)


async def _centre(request: Request, code: str) -> dict:
    if not CENTRE_CODE.fullmatch(code):
        raise Problem(404, "not-found", "no such centre", _("This page does not exist."))
    return await sessions.api(request).get("enrolment", f"{REGISTER}/{code}")


def _posted(form: dict) -> tuple[str, dict[str, str]]:
    posted = {k: str(v) for k, v in form.items()}
    return posted.pop("action", "preview"), posted


# ---- the register ---------------------------------------------------------------------------------------------

@router.get(HOME)
async def register(request: Request):
    _admin(request)
    rows = await _register(request)
    names = {r["code"]: r["name"] for r in rows}
    for row in rows:  # a rename may be dated ahead: the name before today's (enrolment's `name`), the one to come
        now = max((i for i, n in enumerate(row["names"]) if n["name"] == row["name"]), default=0)
        row["earlier"] = row["names"][now - 1]["name"] if now > 0 else None
        row["coming"] = row["names"][now + 1] if now + 1 < len(row["names"]) else None
    return render(request, "centre_register.html", rows=rows, names=names, flash=request.session.pop("flash", None))


# ---- registering a centre -------------------------------------------------------------------------------------

def _blank(fields: tuple[str, ...], **given: str) -> dict[str, str]:
    return {**{name: "" for name in fields}, **given, "key": str(uuid.uuid4())}


def _new_page(request: Request, form: dict[str, str], errors: FormErrors | None = None):
    return render(request, "centre_new.html", status=422 if errors else 200, form=form,
                  errors=errors or FormErrors(NEW_FIELDS))


@router.get(f"{HOME}/new")
async def new_form(request: Request):
    _admin(request)
    return _new_page(request, _blank(NEW_FIELDS))


@router.post(f"{HOME}/new")
async def new(request: Request):
    _admin(request)
    action, posted = _posted(await sessions.check_csrf(request))
    form = {**_blank(NEW_FIELDS), **{k: v for k, v in posted.items() if k in (*NEW_FIELDS, "key")}}
    if action == "edit":
        return _new_page(request, form)
    errors, messages = FormErrors(NEW_FIELDS), _messages()
    code, effective = form["code"].strip().lower(), _day(form["effective_on"])
    if not CENTRE_CODE.fullmatch(code):
        errors.add("code", messages["code"])
    if not form["name"].strip():
        errors.add("name", messages["name"])
    if effective is None:
        errors.add("effective_on", messages["effective_on"])
    if errors:
        return _new_page(request, form, errors)
    body = {"code": code, "name": form["name"].strip(), "address": form["address"].strip() or None,
            "parent_body": form["parent_body"].strip() or None, "effective_on": effective}
    if action != "confirm":  # the API has no preview of a registration: the page says what will be registered
        return render(request, "centre_preview.html", change="new", form=form, body=body,
                      action=f"{HOME}/new", title=_("Check the centre before registering it"))
    try:
        await sessions.api(request).post("enrolment", REGISTER, body, idempotency_key=form["key"])
    except Problem as problem:
        if problem.status not in (404, 409, 422):
            raise
        _refused(errors, problem, "code", near="code")
        form["key"] = str(uuid.uuid4())  # the corrected form is a new request, not a replay of the refused one
        return _new_page(request, form, errors)
    request.session["flash"] = _("{name} has been registered.").format(name=body["name"])
    return RedirectResponse(HOME, status_code=303)


# ---- merging centres ------------------------------------------------------------------------------------------

def _merge_page(request: Request, form: dict[str, str], errors: FormErrors | None = None):
    return render(request, "centre_merge.html", status=422 if errors else 200, form=form, kinds=KINDS,
                  errors=errors or FormErrors(MERGE_FIELDS))


@router.get(f"{HOME}/merge")
async def merge_form(request: Request):
    _admin(request)
    chosen = [c for c in request.query_params.getlist("predecessor") if CENTRE_CODE.fullmatch(c)]
    return _merge_page(request, _blank(MERGE_FIELDS, predecessors=", ".join(chosen), kind="merged"))


@router.post(f"{HOME}/merge")
async def merge(request: Request):
    _admin(request)
    action, posted = _posted(await sessions.check_csrf(request))
    form = {**_blank(MERGE_FIELDS, kind="merged"), **{k: v for k, v in posted.items() if k in (*MERGE_FIELDS, "key")}}
    if action == "edit":
        return _merge_page(request, form)
    errors, messages = FormErrors(MERGE_FIELDS), _messages()
    body = {"predecessor_codes": _codes(form["predecessors"]), "successor_code": form["successor_code"].strip().lower(),
            "kind": form["kind"], **_dated(form, errors)}
    if not body["predecessor_codes"]:
        errors.add("predecessors", messages["predecessors"])
    if not CENTRE_CODE.fullmatch(body["successor_code"]):
        errors.add("successor_code", messages["successor_code"])
    if form["kind"] not in KINDS:
        errors.add("kind", messages["kind"])
    if errors:
        return _merge_page(request, form, errors)
    api = sessions.api(request)
    try:
        if action == "confirm":
            merged = await api.post("enrolment", f"{REGISTER}/merges", body, idempotency_key=form["key"])
        else:
            found, everyone = await api.post("enrolment", f"{REGISTER}/merges/preview", body), await _register(request)
    except Problem as problem:
        if problem.status not in (404, 409, 422):
            raise
        _refused(errors, problem, "predecessors", near=_concerned(problem, body))
        form["key"] = str(uuid.uuid4())
        return _merge_page(request, form, errors)
    if action == "confirm":
        request.session["flash"] = _("{predecessors} merged into {successor} from {day}.").format(
            predecessors=", ".join(body["predecessor_codes"]), successor=merged["name"],
            day=i18n.day(body["effective_on"])) if body["kind"] == "merged" else _(
            "{predecessors} are sites of {successor} from {day}.").format(
            predecessors=", ".join(body["predecessor_codes"]), successor=merged["name"],
            day=i18n.day(body["effective_on"]))
        return RedirectResponse(HOME, status_code=303)
    return render(request, "centre_preview.html", change="merge", form=form, body=body, preview=found,
                  names={c["code"]: c["name"] for c in everyone}, kinds=KINDS, action=f"{HOME}/merge",
                  title=_("Check the merge of centres before confirming it"))


# ---- renaming a centre ----------------------------------------------------------------------------------------

def _rename_page(request: Request, c: dict, form: dict[str, str], errors: FormErrors | None = None):
    return render(request, "centre_rename.html", status=422 if errors else 200, c=c, form=form,
                  errors=errors or FormErrors(RENAME_FIELDS))


@router.get(HOME + "/{code}/rename")
async def rename_form(request: Request, code: str):
    _admin(request)
    c = await _centre(request, code)
    return _rename_page(request, c, _blank(RENAME_FIELDS, name=c["name"]))


@router.post(HOME + "/{code}/rename")
async def rename(request: Request, code: str):
    _admin(request)
    action, posted = _posted(await sessions.check_csrf(request))
    c = await _centre(request, code)
    form = {**_blank(RENAME_FIELDS), **{k: v for k, v in posted.items() if k in (*RENAME_FIELDS, "key")}}
    if action == "edit":
        return _rename_page(request, c, form)
    errors = FormErrors(RENAME_FIELDS)
    body = {"name": form["name"].strip(), **_dated(form, errors)}
    if not body["name"]:
        errors.add("name", _messages()["name"])
    if errors:
        return _rename_page(request, c, form, errors)
    if action != "confirm":
        return render(request, "centre_preview.html", change="rename", c=c, form=form, body=body,
                      action=f"{HOME}/{code}/rename", title=_("Check the new name before confirming it"))
    try:
        await sessions.api(request).post("enrolment", f"{REGISTER}/{code}/rename", body, idempotency_key=form["key"])
    except Problem as problem:
        if problem.status not in (404, 409, 422):
            raise
        _refused(errors, problem, "name")
        form["key"] = str(uuid.uuid4())
        return _rename_page(request, c, form, errors)
    request.session["flash"] = _("The centre has been renamed {name} from {day}.").format(
        name=body["name"], day=i18n.day(body["effective_on"]))
    return RedirectResponse(HOME, status_code=303)
