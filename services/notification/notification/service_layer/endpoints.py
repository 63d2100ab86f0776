"""Registering a sending organisation's webhook endpoint."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

import asyncpg
from ttct.domain.errors import Invalid, Rejected

from notification.adapters import endpoints, successions
from notification.adapters.sender import Resolver
from notification.domain.targets import check_addresses, check_host, parse_url
from notification.domain.webhook_secrets import new_secret


class EndpointExists(Rejected):
    code = "webhook-endpoint-exists"


async def register(pool: asyncpg.Pool, organisation: str, url: str, description: str | None, *,
                   allow_private: bool, resolver: Resolver, new_id: Callable[[], UUID],
                   make_secret: Callable[[], str] = new_secret, today: date | None = None) -> dict:
    """Check the URL, store the endpoint; return it with its secret (the only time the secret is shown). An
    organisation merged or dissolved by `today` registers none: its mail goes to its successor."""
    if today is not None:
        check_not_succeeded(organisation, await successions.succeeded_by(pool, organisation, today))
    url = url.strip()
    target = parse_url(url)
    check_host(target, allow_private)
    if not allow_private:
        try:
            addresses = await resolver(target.host, target.port)
        except OSError:
            addresses = []  # not resolvable yet: allowed; every delivery checks again before sending
        check_addresses(target, addresses, allow_private)
    secret = make_secret()
    try:
        row = await endpoints.add(pool, new_id(), organisation, url, description, secret)
    except endpoints.EndpointExists:
        raise EndpointExists(f"{url} is already an enabled endpoint of {organisation}",
                             f"{url} đã được đăng ký cho đơn vị {organisation}", url=url) from None
    return {**row, "secret": secret}


def check_not_succeeded(organisation: str, succession: dict | None) -> None:
    if succession is None:
        return
    s = succession
    raise Invalid(f"organisation {organisation} was merged or dissolved from {s['effective_on']} (decision "
                  f"{s['decision_number']}): its notices go to {s['successor_code']}; register the endpoint there",
                  f"Đơn vị {organisation} đã sáp nhập hoặc giải thể từ ngày {s['effective_on']:%d/%m/%Y} (quyết định "
                  f"{s['decision_number']}): thông báo được gửi cho đơn vị {s['successor_code']}; hãy đăng ký địa chỉ "
                  "nhận cho đơn vị đó", code="organisation-succeeded", organisation_code=organisation,
                  successor_code=s["successor_code"])
