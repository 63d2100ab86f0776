"""An organisation tries an endpoint with a test notice, disables and enables it, and reads its own profile (the
contacts its emails go to, as the province's directory registered them)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from ttct.contracts.envelope import Code
from ttct.contracts.types import VietnameseText
from ttct.domain.errors import NotFound, Rejected
from ttct.http.auth import Principal, organisation_access

from notification.adapters import endpoint_controls, endpoints
from notification.domain.notices import Notice, iso
from notification.entrypoints.http_endpoints import EndpointNotFound, EndpointView
from notification.service_layer.endpoints import EndpointExists

router = APIRouter(prefix="/v1/organisations/{org}", tags=["webhook endpoints and replay"])
TEST_NOTICE = "webhook.test"
TEST_RECIPIENT = "test"  # not the organisation's: no other endpoint, no feed, no email


def _missing(org: str, endpoint_id: UUID) -> EndpointNotFound:
    return EndpointNotFound(f"no webhook endpoint {endpoint_id} for {org}",
                            f"Không tìm thấy địa chỉ webhook {endpoint_id} của đơn vị {org}")


class EndpointDisabled(Rejected):
    code = "webhook-endpoint-disabled"


class TestSent(BaseModel):
    notice_id: UUID = Field(description="the test notice's id: its webhook-id, and its line in the delivery log")


@router.post("/webhook-endpoints/{endpoint_id}/test", response_model=TestSent, status_code=202,
             summary="Send a test notice (type webhook.test) to this endpoint only, signed like any other; 409 "
                     "webhook-endpoint-disabled if it is disabled")
async def send_test(org: Code, endpoint_id: UUID, request: Request,
                    _caller: Principal = organisation_access("notifications:write")) -> TestSent:
    runtime = request.app.state.runtime
    notice_id = runtime.new_id()
    body = {"type": TEST_NOTICE, "timestamp": iso(runtime.clock()), "data": {
        "notice_id": str(notice_id), "endpoint_id": str(endpoint_id), "sending_organisation": {"code": org},
        "message": "Thông báo thử: địa chỉ webhook này nhận được thông báo của Trung tâm Chính trị."}}
    notice = Notice(notice_id, TEST_NOTICE, notice_id, org, "", None, None,
                    json.dumps(body, ensure_ascii=False, separators=(",", ":")), TEST_RECIPIENT)
    sent = await endpoint_controls.send_test(runtime.pool, org, endpoint_id, notice)
    if sent is None:
        raise _missing(org, endpoint_id)
    if not sent:
        raise EndpointDisabled(f"webhook endpoint {endpoint_id} is disabled: enable it first",
                               f"Địa chỉ webhook {endpoint_id} đang tắt: hãy bật lại trước")
    return TestSent(notice_id=notice_id)


class Disable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: VietnameseText | None = Field(None, description="why (shown in the endpoint list)")


@router.post("/webhook-endpoints/{endpoint_id}/disable", response_model=EndpointView,
             summary="Stop sending to this endpoint; its pending deliveries are cancelled, visibly")
async def disable(org: Code, endpoint_id: UUID, body: Disable, request: Request,
                  _caller: Principal = organisation_access("notifications:write")) -> EndpointView:
    row = await endpoint_controls.disable(request.app.state.runtime.pool, org, endpoint_id,
                                          body.reason or "disabled by the organisation")
    if row is None:
        raise _missing(org, endpoint_id)
    return EndpointView.model_validate(row)


@router.post("/webhook-endpoints/{endpoint_id}/enable", response_model=EndpointView,
             summary="Send to this endpoint again (what was cancelled meanwhile can be replayed); 409 "
                     "webhook-endpoint-exists if another enabled endpoint has its URL")
async def enable(org: Code, endpoint_id: UUID, request: Request,
                 _caller: Principal = organisation_access("notifications:write")) -> EndpointView:
    try:
        row = await endpoint_controls.enable(request.app.state.runtime.pool, org, endpoint_id)
    except endpoints.EndpointExists:
        raise EndpointExists(f"another enabled endpoint of {org} has this URL",
                             f"Đơn vị {org} đã có một địa chỉ webhook khác đang dùng URL này") from None
    if row is None:
        raise _missing(org, endpoint_id)
    return EndpointView.model_validate(row)


class Profile(BaseModel):
    code: str
    name: str
    kind: str | None
    parent_code: str | None
    contacts: list[dict[str, Any]] = Field(description="who its emails go to; `is_head`: the head of its party "
                                                            "committee, also sent absences and result reports")
    registered_at: datetime | None = None


@router.get("/profile", response_model=Profile,
            summary="The organisation as the directory registered it, with its contacts (changed by the centre's "
                    "staff in enrolment's directory)")
async def profile(org: Code, request: Request,
                  _caller: Principal = organisation_access("notifications:read")) -> Profile:
    row = await endpoint_controls.profile(request.app.state.runtime.pool, org)
    if row is None:
        raise NotFound(f"{org} is not in the directory yet", f"Đơn vị {org} chưa có trong danh bạ",
                       code="organisation-unknown")
    return Profile.model_validate(row)
