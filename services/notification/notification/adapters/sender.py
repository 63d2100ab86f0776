"""Sending one signed webhook request: Standard Webhooks v1 headers, SSRF checks, no redirects.

The signature comes from the `standardwebhooks` reference library, so what we send is what receivers verify.
When private targets are refused, the host is resolved here, every address checked, and the request sent to
the checked address (Host header and TLS SNI keep the name), so DNS cannot answer differently in between.
"""
from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from notification.adapters.deliveries import AttemptResult
from notification.domain.backoff import parse_retry_after
from notification.domain.targets import Target, TargetRefused, check_addresses, check_host, parse_url

Resolver = Callable[[str, int], Awaitable[list[str]]]
USER_AGENT = "ttct-notification/1 (Standard Webhooks v1)"


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # IPv4 first: a dual-stack name whose IPv6 route is broken still works, as it would with happy eyeballs.
    return sorted({info[4][0] for info in infos}, key=lambda a: ":" in a)


def signed_headers(secret: str, msg_id: str, body: str, now: datetime, *previous: str) -> dict[str, str]:
    """Standard Webhooks headers; during a secret rotation's overlap the signature header carries one `v1,`
    signature per secret, space-separated (the specification's way), so receivers verify with either."""
    moment = now.astimezone(UTC).replace(microsecond=0)
    signatures = [Webhook(s).sign(msg_id, moment, body) for s in (secret, *previous)]
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


async def _excerpt(response: httpx.Response) -> str:
    """The start of an error response, for the log; the rest is never read (a receiver could send gigabytes)."""
    try:
        chunk = await anext(response.aiter_bytes(), b"")
    except httpx.StreamConsumed:  # a response that arrived already read (mock transports)
        chunk = response.content
    return chunk[:200].decode("utf-8", "replace")


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient, *, allow_private: bool, timeout: float,
                 resolver: Resolver = resolve, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._client, self._allow_private, self._timeout = client, allow_private, timeout
        self._resolver, self._clock = resolver, clock

    async def send(self, url: str, secret: str, msg_id: str, body: str, *previous: str) -> AttemptResult:
        now = self._clock()
        started = time.perf_counter()

        def result(status: int | None, error: str | None, retry_after: float | None = None) -> AttemptResult:
            return AttemptResult(now, status, round((time.perf_counter() - started) * 1000), error, retry_after)

        try:
            async with asyncio.timeout(self._timeout):
                request = await self._request(url, signed_headers(secret, msg_id, body, now, *previous), body)
                response = await self._client.send(request, stream=True)
                try:
                    status = response.status_code
                    if 200 <= status < 300:
                        return result(status, None)
                    excerpt = await _excerpt(response)
                    retry_after = parse_retry_after(response.headers.get("retry-after"), now)
                    return result(status, f"HTTP {status}: {excerpt}".strip(), retry_after)
                finally:
                    await response.aclose()
        except TargetRefused as exc:
            return result(None, f"refused: {exc.detail}")
        except TimeoutError:
            return result(None, f"timed out after {self._timeout:g} s")
        except (httpx.HTTPError, OSError) as exc:
            return result(None, _short(exc))

    async def _request(self, url: str, headers: dict[str, str], body: str) -> httpx.Request:
        target = parse_url(url)
        check_host(target, self._allow_private)
        if self._allow_private:
            return self._client.build_request("POST", url, headers=headers, content=body.encode())
        address = await self._checked_address(target)
        pinned = httpx.URL(url).copy_with(host=address)
        headers["host"] = httpx.URL(url).netloc.decode("ascii")
        return self._client.build_request("POST", pinned, headers=headers, content=body.encode(),
                                          extensions={"sni_hostname": target.host})

    async def _checked_address(self, target: Target) -> str:
        addresses = await self._resolver(target.host, target.port)
        if not addresses:
            raise OSError(f"{target.host} resolves to no address")
        check_addresses(target, addresses, self._allow_private)
        return addresses[0]


def make_client(allow_private: bool, timeout: float) -> httpx.AsyncClient:
    # No proxies from the environment (the address checks must see the real target) and no redirects (a 3xx
    # could point anywhere; it counts as a failed attempt). When requests go to pinned addresses, connections
    # are not kept alive: the pool is keyed by address, and a shared host's next name would reuse the wrong SNI.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=100 if allow_private else 0)
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False, limits=limits)
