"""Polling, for organisations behind firewalls that cannot receive webhooks: the organisation's notices since a
cursor, with the very payloads and ids its webhooks carry (`id` is the `webhook-id`)."""
from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from ttct.contracts.envelope import Code
from ttct.domain.errors import Invalid
from ttct.http.auth import Principal, organisation_access

from notification.adapters import notices

router = APIRouter(prefix="/v1/organisations/{org}", tags=["polling feed"])


class BadCursor(Invalid):
    code = "feed-cursor-invalid"


class FeedItem(BaseModel):
    id: str = Field(description="the notice id: the same as the webhook-id of its webhook deliveries")
    type: str
    timestamp: str
    data: dict[str, Any]


class Feed(BaseModel):
    data: list[FeedItem]
    next_cursor: str = Field(description="pass as `cursor` to get what came after; unchanged when nothing did")
    done: bool = Field(description="true when this page reached the end of the feed for now")


def _position(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 19:
        raise BadCursor(f"{cursor!r} is not a cursor of this feed", f"{cursor!r} không phải là con trỏ hợp lệ")
    return int(cursor)


@router.get("/feed", response_model=Feed, summary="The organisation's notices since a cursor (polling)")
async def feed(org: Code, request: Request, cursor: str | None = Query(None, max_length=40),
               limit: int = Query(100, ge=1, le=1000),
               _caller: Principal = organisation_access("notifications:read")) -> Feed:
    after = _position(cursor)
    rows = await notices.feed(request.app.state.runtime.pool, org, after, limit)
    items = [FeedItem(id=payload["data"]["notice_id"], **payload)
             for payload in (json.loads(body) for _, body in rows)]
    last = rows[-1][0] if rows else after
    return Feed(data=items, next_cursor=str(last), done=len(rows) < limit)
