"""A class's results: the scores recorded so far, finalisation (assessment names whoever still lacks a score),
the final results and the certificates, and revoking a certificate with a reason."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of
from console.entrypoints.forms import FormErrors
from console.views import render
from ttct.domain.names import name_sort_key

router = APIRouter(include_in_schema=False)
_ = i18n.gettext


def _said(problem: Problem) -> str:
    return problem.detail_vi if i18n.current.get() == "vi" and problem.detail_vi else problem.detail


async def _page(request: Request, class_id: uuid.UUID, *, problem: str | None = None, status: int = 200):
    person = sessions.person(request)
    api, base = sessions.api(request), f"/centres/{centre_of(request, person)}/classes/{class_id}"
    the_class = await api.get("scheduling", base)
    try:
        final = await api.get("assessment", f"{base}/results")
    except Problem as refused:
        if refused.status not in (404, 409):
            raise
        final = None
    grid: dict[str, dict] = {}
    components: list[str] = []
    certificates: list[dict] = []
    if final is None:
        try:
            scores = await api.get("assessment", f"{base}/scores")
        except Problem as refused:  # assessment learns of a new class from its events
            if refused.status not in (404, 409):
                raise
            scores = []
        for s in scores:
            grid.setdefault(s["learner_id"], {"full_name": s["full_name"], "scores": {}})["scores"][s["component"]] = s
            if s["component"] not in components:
                components.append(s["component"])
    else:
        final["results"].sort(key=lambda r: name_sort_key(r["full_name"]))
        certificates = await api.get("assessment", f"{base}/certificates")
    rows = sorted(grid.values(), key=lambda r: name_sort_key(r["full_name"]))
    return render(request, "results.html", status=status, c=the_class, final=final, rows=rows,
                  components=components, certificates=certificates, problem=problem,
                  flash=request.session.pop("flash", None))


@router.get("/classes/{class_id}/results")
async def results(request: Request, class_id: uuid.UUID):
    return await _page(request, class_id)


@router.post("/classes/{class_id}/results")
async def finalise(request: Request, class_id: uuid.UUID):
    person = sessions.person(request)
    await sessions.check_csrf(request)
    try:
        await sessions.api(request).post(
            "assessment", f"/centres/{centre_of(request, person)}/classes/{class_id}/finalisation", {})
    except Problem as problem:
        if problem.status not in (409, 422):
            raise
        return await _page(request, class_id, problem=_said(problem), status=409)
    request.session["flash"] = _("The results are final; certificates have been issued to those who passed.")
    return RedirectResponse(f"/classes/{class_id}/results", status_code=303)


async def _certificate(request: Request, class_id: uuid.UUID, number: str) -> tuple[dict, dict]:
    person = sessions.person(request)
    api, base = sessions.api(request), f"/centres/{centre_of(request, person)}/classes/{class_id}"
    found = [c for c in await api.get("assessment", f"{base}/certificates") if c["certificate_number"] == number]
    if not found:
        raise Problem(404, "not-found", "no such certificate in this class", _("This class has no such certificate."))
    return await api.get("scheduling", base), found[0]


@router.get("/classes/{class_id}/certificates/revoke")
async def revoke_form(request: Request, class_id: uuid.UUID, number: str = ""):
    the_class, certificate = await _certificate(request, class_id, number)
    return render(request, "revoke.html", c=the_class, certificate=certificate, form={"reason": ""},
                  errors=FormErrors(("reason",)))


@router.post("/classes/{class_id}/certificates/revoke")
async def revoke(request: Request, class_id: uuid.UUID):
    person = sessions.person(request)
    form = await sessions.check_csrf(request)
    number, reason = str(form.get("number", "")), str(form.get("reason", "")).strip()
    try:
        await sessions.api(request).post("assessment", f"/centres/{centre_of(request, person)}/certificate-revocations",
                                         {"certificate_number": number, "reason": reason})
    except Problem as problem:
        if problem.status not in (409, 422):
            raise
        the_class, certificate = await _certificate(request, class_id, number)
        errors = FormErrors(("reason",))
        errors.from_problem(problem, {"reason": _("Enter why the certificate is revoked, up to 500 characters")},
                            i18n.current.get())
        return render(request, "revoke.html", status=422, c=the_class, certificate=certificate,
                      form={"reason": reason}, errors=errors)
    request.session["flash"] = _("Certificate {number} has been revoked.").format(number=number)
    return RedirectResponse(f"/classes/{class_id}/results#certificates", status_code=303)
