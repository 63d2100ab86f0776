"""The public certificate verification page (no sign-in): the QR code printed on each certificate leads here
(assessment's CERTIFICATE_VERIFICATION_URL = this console's PUBLIC_URL/verify). It says whether the certificate is
genuine, revoked or reissued, and shows no more of the person than the certificate itself does: assessment's
public route decides what is said. A program that asks for JSON (not text/html) gets the route's answer as it is."""
from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse

from console import i18n, labels
from console.adapters.api import public_get
from console.views import render

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
CODE = re.compile(r"[A-Za-z0-9-]{4,64}")  # a verification code as printed (letters, digits, hyphens)


@router.get("/verify")
async def ask(request: Request, code: str = ""):
    code = code.strip()
    if CODE.fullmatch(code):
        return RedirectResponse(f"/verify/{code.upper()}", status_code=303)
    return render(request, "verify.html", status=422 if code else 200, found=None, code=code, wrong=bool(code),
                  labels=labels)


@router.get("/verify/{code}")
async def verify(request: Request, code: str):
    if not CODE.fullmatch(code):
        return render(request, "verify.html", status=404, found=None, code=code, wrong=True, labels=labels)
    found = await public_get(request.app.state.http, request.app.state.bases, "assessment",
                             f"/public/certificates/{code}")
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse(found)
    return render(request, "verify.html", status=200 if found["status"] != "unknown" else 404, found=found,
                  code=code, wrong=False, labels=labels)
