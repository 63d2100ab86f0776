"""Registering a sending organisation's webhook endpoint."""
from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import asyncpg
from ttct.domain.errors import Rejected

from notification.adapters import endpoints
from notification.adapters.sender import Resolver
from notification.domain.targets import check_addresses, check_host, parse_url
from notification.domain.webhook_secrets import new_secret


class EndpointExists(Rejected):
    code = "webhook-endpoint-exists"


async def register(pool: asyncpg.Pool, organisation: str, url: str, description: str | None, *,
                   allow_private: bool, resolver: Resolver, new_id: Callable[[], UUID],
                   make_secret: Callable[[], str] = new_secret) -> dict:
    """Check the URL, store the endpoint; return it with its secret (the only time the secret is shown)."""
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
