"""How a sending organisation is told: its webhook addresses (registered with the secret shown once, the secret
rotated, a test notice sent, disabled and enabled), its notices and the delivery log, replaying one notice or
everything since a time, and its channels (each notice, or a digest) with the contacts the directory holds."""
from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, labels, sessions
from console.adapters.api import Problem
from console.entrypoints.forms import FormErrors
from console.entrypoints.organisation import VIETNAM, organisation_of, profile
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
PAGE = 50


def _said(problem: Problem) -> str:
    return problem.detail_vi if i18n.current.get() == "vi" and problem.detail_vi else problem.detail


async def _webhooks_page(request: Request, *, form: dict | None = None, errors: FormErrors | None = None,
                         secret: dict | None = None, status: int = 200):
    _person, api, base = organisation_of(request)
    found = await api.get("notification", f"{base}/webhook-endpoints")
    return render(request, "org_webhooks.html", status=status, endpoints=found, secret=secret,
                  form=form or {"url": "", "description": ""}, errors=errors or FormErrors(("url", "description")),
                  flash=request.session.pop("flash", None))


@router.get("/organisation/webhooks")
async def webhooks(request: Request):
    return await _webhooks_page(request)


@router.post("/organisation/webhooks")
async def register(request: Request):
    _person, api, base = organisation_of(request)
    form = {k: str(v).strip() for k, v in (await sessions.check_csrf(request)).items()}
    form = {"url": form.get("url", ""), "description": form.get("description", "")}
    try:
        created = await api.post("notification", f"{base}/webhook-endpoints",
                                 {"url": form["url"], **({"description": form["description"]}
                                                         if form["description"] else {})})
    except Problem as problem:
        if problem.status not in (409, 422):
            raise
        errors = FormErrors(("url", "description"))
        errors.from_problem(problem, {
            "url": _("Enter the full address of your receiver, starting with https://"),
            "description": _("Enter a description of up to 500 characters")}, i18n.current.get(),
            codes={"webhook-url-invalid": "url", "webhook-target-refused": "url", "webhook-endpoint-exists": "url"})
        return await _webhooks_page(request, form=form, errors=errors, status=422)
    # the secret is shown on this page only: not kept in the session, not shown again
    return await _webhooks_page(request, secret=created, status=201)


@router.post("/organisation/webhooks/{endpoint_id}/{action}")
async def endpoint_action(request: Request, endpoint_id: uuid.UUID, action: str):
    _person, api, base = organisation_of(request)
    await sessions.check_csrf(request)
    path = f"{base}/webhook-endpoints/{endpoint_id}"
    if action == "rotate":
        rotated = await api.post("notification", f"{path}/rotate-secret", {"overlap_hours": 24})
        return await _webhooks_page(request, secret=rotated)
    try:
        if action == "test":
            sent = await api.post("notification", f"{path}/test", {})
            request.session["flash"] = _("A test notice has been sent (number {id}); its delivery shows in the "
                                         "delivery log.").format(id=sent["notice_id"])
        elif action == "disable":
            await api.post("notification", f"{path}/disable", {})
            request.session["flash"] = _("The address is disabled: nothing more is sent to it.")
        elif action == "enable":
            await api.post("notification", f"{path}/enable", {})
            request.session["flash"] = _("The address is enabled again. Replay what it missed from the delivery log.")
        else:
            raise Problem(404, "not-found", "no such action", _("This page does not exist."))
    except Problem as problem:
        if problem.status != 409:
            raise
        request.session["flash"] = _said(problem)
    return RedirectResponse("/organisation/webhooks", status_code=303)


@router.get("/organisation/notices")
async def notices(request: Request, cursor: str = "", notice_type: str = ""):
    _person, api, base = organisation_of(request)
    found, after = await api.get_page("notification", f"{base}/notices", cursor=cursor, limit=PAGE,
                                      notice_type=notice_type if notice_type in labels.NOTICE_TYPES else None)
    return render(request, "org_notices.html", notices=found, next_cursor=after, notice_type=notice_type,
                  labels=labels, flash=request.session.pop("flash", None),
                  form={"since": ""}, errors=FormErrors(("since",)))


@router.get("/organisation/deliveries")
async def deliveries(request: Request, cursor: str = "", outcome: str = "", endpoint: str = ""):
    _person, api, base = organisation_of(request)
    endpoints = await api.get("notification", f"{base}/webhook-endpoints")
    chosen = endpoint if endpoint in {e["endpoint_id"] for e in endpoints} else None
    found, after = await api.get_page("notification", f"{base}/deliveries", cursor=cursor, limit=PAGE,
                                      outcome=outcome if outcome in labels.ATTEMPT_OUTCOMES else None,
                                      endpoint_id=chosen)
    return render(request, "org_deliveries.html", attempts=found, next_cursor=after, outcome=outcome,
                  endpoint=chosen or "", endpoints=endpoints, labels=labels, flash=request.session.pop("flash", None),
                  form={"since": ""}, errors=FormErrors(("since",)))


@router.post("/organisation/notices/{notice_id}/replay")
async def replay_one(request: Request, notice_id: uuid.UUID):
    _person, api, base = organisation_of(request)
    form = await sessions.check_csrf(request)
    queued = await api.post("notification", f"{base}/notices/{notice_id}/replay", {})
    request.session["flash"] = (_("The notice is being sent again to {n} address(es).").format(n=queued["queued"])
                                if queued["queued"] else
                                _("Nothing to send again: the notice is still being sent, or no address is enabled."))
    back = str(form.get("back", ""))
    return RedirectResponse(back if back.startswith("/organisation/") else "/organisation/deliveries",
                            status_code=303)


def _since(text: str) -> datetime | None:
    """dd/mm/yyyy hh:mm (or just the day) in Vietnam's time."""
    for shape in ("%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), shape).replace(tzinfo=VIETNAM)
        except ValueError:
            continue
    return None


@router.post("/organisation/replay")
async def replay_since(request: Request):
    _person, api, base = organisation_of(request)
    form = await sessions.check_csrf(request)
    text = str(form.get("since", "")).strip()
    since = _since(text)
    if since is None:
        errors = FormErrors(("since",))
        errors.add("since", _("Enter the time as day/month/year hour:minute, for example 01/12/2026 08:00"))
        found, after = await api.get_page("notification", f"{base}/notices", limit=PAGE)
        return render(request, "org_notices.html", status=422, notices=found, next_cursor=after, notice_type="",
                      labels=labels, form={"since": text}, errors=errors)
    queued = await api.post("notification", f"{base}/replay", {"since": since.isoformat()})
    request.session["flash"] = _("{n} notice deliveries since {since} are being sent again.").format(
        n=queued["queued"], since=text)
    return RedirectResponse("/organisation/notices", status_code=303)


@router.get("/organisation/settings")
async def settings(request: Request):
    person, api, base = organisation_of(request)
    me = await profile(api, base, person.organisation or "")
    channels = await api.get("notification", f"{base}/channel-settings")
    return render(request, "org_settings.html", me=me, channels=channels, labels=labels,
                  flash=request.session.pop("flash", None))


@router.post("/organisation/settings")
async def save_settings(request: Request):
    _person, api, base = organisation_of(request)
    form = await sessions.check_csrf(request)
    chosen = {c: str(form.get(c, "immediate")) for c in ("webhook", "email")}
    if all(v in labels.CHANNEL_MODES for v in chosen.values()):
        await api.send("PUT", "notification", f"{base}/channel-settings", chosen)
        request.session["flash"] = _("Your settings are saved.")
    return RedirectResponse("/organisation/settings", status_code=303)
