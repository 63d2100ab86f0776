"""Request limits every service applies before its routes: the size of a request body (413) and how often one
client may call (429 with Retry-After). Both are plain ASGI middleware that `build_app` installs:

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimit, rate=settings.rate_limit_per_second, burst=settings.rate_limit_burst)

The body limit is checked twice: on Content-Length, before anything is read, and on the bytes actually
received, so a chunked upload (no Content-Length) or a lying one cannot get past it.

The rate limit is a token bucket per client: per authenticated subject (the `sub` of a bearer token that
verifies, with the service's own TokenVerifier), else per client address. Buckets live in this process's memory:
each replica limits on its own, so N replicas let a client make up to N times the rate. Health and metrics
endpoints are not limited (probes and scrapers call them).
"""
from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ttct.http.problems import problem_response

EXEMPT_PATHS = ("/healthz/", "/metrics")


class BodyTooLarge(Exception):
    """Raised to whatever reads a request body past the limit (the client has already been answered 413)."""


class BodySizeLimit:
    """Answer 413 (problem+json) to a request whose body is larger than `max_bytes`; 0 turns the limit off."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_bytes <= 0:
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received, refused, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                raise BodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(scope, receive, send)
                    # what reads the body stops there (e.g. the idempotency keys remember nothing); whatever
                    # the app still answers is dropped: the client has its 413
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:  # after a refusal, BodyTooLarge or what the app made of it: already answered
                raise

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_bytes
        response = problem_response(
            413, "payload-too-large", "Payload too large",
            f"the request body is larger than {limit} bytes", f"Dữ liệu gửi lên vượt quá {limit} byte",
            max_bytes=limit)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


class TokenBuckets:
    """A token bucket per key: `burst` requests at once, refilled at `rate` per second. Pure, clock injected.

    At most `max_keys` buckets are kept; beyond that the least recently used one is forgotten (its client starts
    again with a full bucket)."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate, self.burst, self._clock, self._max_keys = rate, burst, clock, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """Take one token for `key`: 0.0 if allowed, else the seconds until a token is there."""
        now = self._clock()
        tokens, at = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return 0.0 if allowed else (1.0 - tokens) / self.rate


Verify = Callable[[str], Awaitable[Any]]  # TokenVerifier.verify: token -> Principal (with .subject), or raises


class RateLimit:
    """Answer 429 (problem+json, Retry-After in whole seconds) to a client over its rate; rate 0 turns it off.

    The client is the subject of a bearer token that verifies (`verify`, by default the app's
    `state.verifier.verify`; verified tokens are remembered, so each is verified once here), else the address."""

    def __init__(self, app: ASGIApp, *, rate: float, burst: int, verify: Verify | None = None,
                 exempt: tuple[str, ...] = EXEMPT_PATHS, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = 100_000) -> None:
        self.app, self._verify, self._exempt = app, verify, exempt
        self.buckets = TokenBuckets(rate, burst, clock=clock, max_keys=max_clients) if rate > 0 else None
        self._subjects: OrderedDict[str, str] = OrderedDict()  # verified token -> its subject
        self._max_tokens = max_clients

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is None or scope["type"] != "http" or scope["path"].startswith(self._exempt):
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(await self._client(scope))
        if not wait:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        response = problem_response(
            429, "rate-limited", "Too many requests",
            f"too many requests from this client: try again in {seconds} s",
            f"Quá nhiều yêu cầu từ máy khách này: vui lòng thử lại sau {seconds} giây", retry_after=seconds)
        response.headers["Retry-After"] = str(seconds)
        await response(scope, receive, send)

    async def _client(self, scope: Scope) -> str:
        authorization = _header(scope, b"authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token:
            subject = await self._subject(scope, token.strip())
            if subject is not None:
                return f"sub:{subject}"
        client = scope.get("client")
        return f"addr:{client[0] if client else 'unknown'}"

    async def _subject(self, scope: Scope, token: str) -> str | None:
        if (known := self._subjects.get(token)) is not None:
            self._subjects.move_to_end(token)
            return known
        verify = self._verify
        if verify is None:
            verifier = getattr(getattr(scope.get("app"), "state", None), "verifier", None)
            verify = verifier.verify if verifier is not None else None
        if verify is None:
            return None
        try:
            subject = str((await verify(token)).subject)
        except Exception:  # not a valid token: the route answers 401; it counts against the address
            return None
        self._subjects[token] = subject
        if len(self._subjects) > self._max_tokens:
            self._subjects.popitem(last=False)
        return subject


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None
