"""Certificates: a class's certificates, one certificate, revocation, and public verification.

Verification is public (no token): anyone holding a certificate's verification code (its QR code leads here) learns
whether it is genuine, revoked, or reissued (revoked in favour of a later one, after a re-sit), and which centre
issued it; the holder's name and programme only while it is genuine, nothing else.

A certificate names the centre that issued it as that centre was named on the day of issue (the province's
register of centres, ttct.centres; the deployment's CENTRES setting for a centre never registered): a centre
renamed or merged since still stands behind what it issued.
"""
from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from ttct import centres
from ttct.contracts.envelope import Code
from ttct.domain.errors import NotFound
from ttct.http.auth import Principal, centre_access
from ttct.http.pagination import Page, page_params, paged
from ttct.privacy import tenancy

from assessment.adapters import paper_views, views
from assessment.domain.certificates import RevokeCertificate, unknown
from assessment.entrypoints.http import metadata
from assessment.service_layer import handlers

router = APIRouter(prefix="/v1/centres/{centre}", tags=["certificates"])
public = APIRouter(prefix="/v1/public", tags=["public"])


class CertificateView(BaseModel):
    certificate_number: str
    verification_code: str
    class_id: UUID
    learner_id: UUID
    full_name: str
    programme_type: str | None
    class_title: str
    issued_on: date
    revoked: bool
    revoked_reason: str | None
    replaced_by: str | None = Field(default=None, description="the certificate issued in its place after a re-sit")
    centre: str = Field(description="the centre that issued it")
    centre_name: str = Field(description="that centre's name on the day of issue")


Standing = Literal["genuine", "revoked", "reissued", "unknown"]
_SAYS = {"genuine": "Giấy chứng nhận hợp lệ.", "revoked": "Giấy chứng nhận đã bị thu hồi, không còn giá trị.",
         "reissued": "Giấy chứng nhận đã được thay bằng giấy chứng nhận cấp lại sau khi thi lại; giấy này không "
                     "còn giá trị.",
         "unknown": "Không tìm thấy giấy chứng nhận có mã xác minh này."}


class Verification(BaseModel):
    genuine: bool
    full_name: str | None = None
    programme_type: str | None = None
    programme: str | None = Field(default=None, description="the class the certificate was earned in")
    status: Standing = Field(default="unknown", description="genuine; revoked; reissued (revoked, replaced by a "
                                                            "later certificate after a re-sit); unknown")
    certificate_number: str | None = Field(default=None, description="the certificate's number (not for unknown)")
    issued_on: date | None = None
    replaced_by: str | None = Field(default=None, description="the number of the certificate issued in its place")
    centre: str | None = Field(default=None, description="the centre that issued it (not for unknown)")
    centre_name: str | None = Field(default=None, description="that centre's name on the day of issue, though it "
                                                              "was renamed or merged into another since")
    message_vi: str = Field(default=_SAYS["unknown"], description="what the status means, in Vietnamese")


async def issued_by(request: Request, rows: list[dict]) -> list[dict]:
    """The rows with `centre_name`: each certificate's centre as named on its day of issue."""
    settings = request.app.state.runtime.settings
    names = await centres.names_on(request.app.state.runtime.pool, [(r["centre"], r["issued_on"]) for r in rows])
    return [{**r, "centre_name": names.get((r["centre"], r["issued_on"])) or settings.centre_profile(r["centre"]).name}
            for r in rows]


@router.get("/classes/{class_id}/certificates", response_model=list[CertificateView],
            responses={**paged(), 404: {"description": "no such class at this centre"}},
            summary="The certificates issued in a class by number, revoked ones included unless filtered; "
                    "paginated (X-Next-Cursor, Link rel=next)")
async def class_certificates(centre: Code, class_id: UUID, request: Request, response: Response,
                             revoked: bool | None = Query(None, description="only revoked (true) or valid (false) "
                                                                            "certificates"),
                             page: Page = Depends(page_params),
                             _caller: Principal = centre_access("certificates:read")) -> list[CertificateView]:
    pool = request.app.state.runtime.pool
    # A class of another centre (or none) is absent, as on every other route of a class: not a class without
    # certificates.
    if await paper_views.class_header(pool, centre, class_id) is None:
        raise NotFound(f"class {class_id} is not known at this centre",
                       f"Không tìm thấy lớp {class_id} ở trung tâm này", code="class-unknown")
    rows = await views.class_certificates(pool, centre, class_id, revoked=revoked,
                                          after=page.after(str), limit=page.fetch)
    shown = page.answer(request, response, rows, key=lambda r: (r["certificate_number"],))
    return [CertificateView(**r) for r in await issued_by(request, [dict(r) for r in shown])]


@router.get("/certificates/{certificate_number:path}", response_model=CertificateView, summary="One certificate")
async def certificate(centre: Code, certificate_number: str, request: Request,
                      _caller: Principal = centre_access("certificates:read")) -> CertificateView:
    row = await views.certificate(request.app.state.runtime.pool, centre, certificate_number)
    if row is None:
        raise unknown(certificate_number)
    return CertificateView(**(await issued_by(request, [row]))[0])


@router.post("/certificate-revocations", response_model=CertificateView, summary="Revoke a certificate",
             responses={404: {"description": "no such certificate at this centre"},
                        409: {"description": "already revoked"}})
async def revoke(centre: Code, command: RevokeCertificate, request: Request,
                 _caller: Principal = centre_access("certificates:write")) -> CertificateView:
    await handlers.revoke(request.app.state.assessment, centre, command, metadata(request, centre))
    row = await views.certificate(request.app.state.runtime.pool, centre, command.certificate_number)
    return CertificateView(**(await issued_by(request, [row]))[0])


@public.get("/certificates/{verification_code}", response_model=Verification,
            summary="Is this certificate genuine? (public, no token)")
async def verify(verification_code: str, request: Request) -> Verification:
    code = verification_code.strip().upper()
    with tenancy.lookup(code):  # row-level security: this one certificate, no centre's others
        row = await views.verify(request.app.state.runtime.pool, code)
        if row is not None:
            row = (await issued_by(request, [row]))[0]
    if row is None:
        return Verification(genuine=False)
    known = {"certificate_number": row["certificate_number"], "issued_on": row["issued_on"],
             "centre": row["centre"], "centre_name": row["centre_name"]}
    if row["revoked"]:
        status = "reissued" if row["replaced_by"] else "revoked"
        return Verification(genuine=False, status=status, replaced_by=row["replaced_by"], message_vi=_SAYS[status],
                            **known)
    return Verification(genuine=True, full_name=row["full_name"], programme_type=row["programme_type"],
                        programme=row["class_title"], status="genuine", message_vi=_SAYS["genuine"], **known)
