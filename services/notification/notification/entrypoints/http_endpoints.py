"""Sending organisations register and list their webhook endpoints."""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from ttct.auth import Principal, organisation_access
from ttct.contracts.envelope import Code
from ttct.contracts.types import VietnameseText

from notification.adapters import endpoints
from notification.adapters.sender import resolve
from notification.service_layer import endpoints as handlers

router = APIRouter(prefix="/v1/organisations/{org}", tags=["webhook endpoints"])


class RegisterEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="http(s) URL that receives the notices")
    description: VietnameseText | None = None


class EndpointView(BaseModel):
    endpoint_id: UUID
    organisation_code: str
    url: str
    description: str | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    disabled_at: datetime | None


class EndpointCreated(EndpointView):
    secret: str = Field(description="whsec_… signing secret: shown only in this response; keep it")


@router.post("/webhook-endpoints", status_code=201, response_model=EndpointCreated,
             summary="Register a webhook endpoint (its signing secret is returned once)")
async def register(org: Code, body: RegisterEndpoint, request: Request,
                   _caller: Principal = organisation_access("notifications:write")) -> EndpointCreated:
    runtime = request.app.state.runtime
    created = await handlers.register(
        runtime.pool, org, body.url, body.description,
        allow_private=runtime.settings.webhook_allow_private_targets, resolver=resolve, new_id=runtime.new_id)
    return EndpointCreated.model_validate(created)


@router.get("/webhook-endpoints", response_model=list[EndpointView], summary="The organisation's endpoints")
async def list_endpoints(org: Code, request: Request,
                         _caller: Principal = organisation_access("notifications:read")) -> list[EndpointView]:
    rows = await endpoints.list_for(request.app.state.runtime.pool, org)
    return [EndpointView.model_validate(r) for r in rows]
