"""Sending organisations register and list their webhook endpoints."""
from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from ttct.contracts.envelope import Code
from ttct.contracts.types import VietnameseText
from ttct.domain.errors import Invalid, NotFound
from ttct.http.auth import Principal, organisation_access
from ttct.http.pagination import Page, page_params, paged
from ttct.papers.labels import local_day

from notification.adapters import endpoints
from notification.adapters.sender import resolve
from notification.domain.webhook_secrets import new_secret
from notification.service_layer import endpoints as handlers

router = APIRouter(prefix="/v1/organisations/{org}", tags=["webhook endpoints and replay"])


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
        allow_private=runtime.settings.webhook_allow_private_targets, resolver=resolve, new_id=runtime.new_id,
        today=local_day(runtime.clock()))
    return EndpointCreated.model_validate(created)


@router.get("/webhook-endpoints", response_model=list[EndpointView], responses=paged(),
            summary="The organisation's endpoints in the order they were registered, optionally only enabled (or "
                    "disabled) ones; paginated (X-Next-Cursor, Link rel=next)")
async def list_endpoints(org: Code, request: Request, response: Response,
                         enabled: bool | None = Query(None, description="only enabled (true) or disabled (false) "
                                                                        "endpoints"),
                         page: Page = Depends(page_params),
                         _caller: Principal = organisation_access("notifications:read")) -> list[EndpointView]:
    rows = await endpoints.list_for(request.app.state.runtime.pool, org, enabled=enabled,
                                    after=page.after(datetime, UUID), limit=page.fetch)
    return [EndpointView.model_validate(r)
            for r in page.answer(request, response, rows, key=lambda r: (r["created_at"], r["endpoint_id"]))]


class RotateSecret(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: float = Field(24.0, ge=0, le=24 * 7,
                                 description="how long the old secret still signs, beside the new one")


class SecretRotated(EndpointView):
    secret: str = Field(description="the new whsec_… secret: shown only in this response")
    previous_secret_until: datetime = Field(description="until then every delivery carries both signatures")


class EndpointNotFound(NotFound):
    code = "webhook-endpoint-not-found"


class NoticeNotFound(NotFound):
    code = "notice-not-found"


class SinceNeedsZone(Invalid):
    code = "replay-since-without-zone"


@router.post("/webhook-endpoints/{endpoint_id}/rotate-secret", response_model=SecretRotated,
             summary="Rotate the signing secret; both signatures are sent during the overlap")
async def rotate_secret(org: Code, endpoint_id: UUID, body: RotateSecret, request: Request,
                        _caller: Principal = organisation_access("notifications:write")) -> SecretRotated:
    secret = new_secret()
    row = await endpoints.rotate(request.app.state.runtime.pool, org, endpoint_id, secret, body.overlap_hours * 3600)
    if row is None:
        raise EndpointNotFound(f"no webhook endpoint {endpoint_id} for {org}",
                               f"Không tìm thấy địa chỉ webhook {endpoint_id} của đơn vị {org}")
    return SecretRotated.model_validate({**row, "secret": secret})


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: datetime = Field(description="replay every notice created at or after this time (with a time zone)")
    endpoint_id: UUID | None = Field(None, description="only to this endpoint (default: every enabled one)")


class Replayed(BaseModel):
    queued: int = Field(description="deliveries queued again")


@router.post("/notices/{notice_id}/replay", response_model=Replayed, status_code=202,
             summary="Send one notice again to the organisation's enabled endpoints (same webhook-id)")
async def replay_notice(org: Code, notice_id: UUID, request: Request,
                        _caller: Principal = organisation_access("notifications:write")) -> Replayed:
    pool = request.app.state.runtime.pool
    if not await pool.fetchval("SELECT true FROM notices WHERE notice_id = $1 AND organisation_code = $2"
                               " AND recipient = 'organisation'", notice_id, org):
        raise NoticeNotFound(f"no notice {notice_id} for {org}", f"Không tìm thấy thông báo {notice_id}")
    async with pool.acquire() as conn, conn.transaction():
        return Replayed(queued=await endpoints.replay(conn, org, notice_id=notice_id))


@router.post("/replay", response_model=Replayed, status_code=202,
             summary="Send every notice since a time again (e.g. after fixing a receiver)")
async def replay_since(org: Code, body: Replay, request: Request,
                       _caller: Principal = organisation_access("notifications:write")) -> Replayed:
    if body.since.tzinfo is None:
        raise SinceNeedsZone("`since` needs a time zone, e.g. 2026-12-01T00:00:00+07:00",
                             "`since` cần múi giờ, ví dụ 2026-12-01T00:00:00+07:00")
    async with request.app.state.runtime.pool.acquire() as conn, conn.transaction():
        return Replayed(queued=await endpoints.replay(conn, org, since=body.since, endpoint_id=body.endpoint_id))




Mode = Literal["immediate", "digest"]


class ChannelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook: Mode = Field("immediate", description="every notice as it happens, or a digest per class")
    email: Mode = Field("immediate", description="every notice as it happens, or a digest per class")


@router.get("/channel-settings", response_model=ChannelSettings, summary="How each channel sends notices")
async def get_channel_settings(org: Code, request: Request,
                               _caller: Principal = organisation_access("notifications:read")) -> ChannelSettings:
    rows = await request.app.state.runtime.pool.fetch(
        "SELECT channel, mode FROM channel_preferences WHERE organisation_code = $1", org)
    return ChannelSettings(**dict(rows))


@router.put("/channel-settings", response_model=ChannelSettings,
            summary="Choose per channel: every notice as it happens, or a digest per class (DIGEST_INTERVAL)")
async def put_channel_settings(org: Code, body: ChannelSettings, request: Request,
                               _caller: Principal = organisation_access("notifications:write")) -> ChannelSettings:
    await request.app.state.runtime.pool.executemany(
        "INSERT INTO channel_preferences (organisation_code, channel, mode) VALUES ($1, $2, $3)"
        " ON CONFLICT (organisation_code, channel) DO UPDATE SET mode = excluded.mode, updated_at = now()",
        [(org, "webhook", body.webhook), (org, "email", body.email)])
    return body
