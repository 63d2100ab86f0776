"""The delivery channels the dispatcher drives: how each claims, sends, judges and records an attempt."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from notification.adapters import deliveries, emails
from notification.adapters.deliveries import AttemptResult, Claimed
from notification.adapters.emails import ClaimedEmail
from notification.adapters.mailer import Mailer
from notification.adapters.sender import WebhookSender
from notification.domain.backoff import Decision, RetryPolicy, decide, decide_email


class Channel(Protocol):
    name: str
    span_name: str
    status_attribute: str

    async def claim(self, limit: int, token: UUID) -> list[Any]: ...
    async def seconds_until_due(self) -> float | None: ...
    async def send(self, item: Any) -> AttemptResult: ...
    def decide(self, item: Any, result: AttemptResult, rand: Callable[[], float]) -> Decision: ...
    async def finish(self, item: Any, result: AttemptResult, decision: Decision) -> None: ...
    async def release(self, items: list[Any]) -> None: ...
    async def after(self, item: Any, decision: Decision) -> None: ...
    def attributes(self, item: Any) -> dict[str, str]: ...


class WebhookChannel:
    name, span_name, status_attribute = "webhook", "webhook POST", "http.response.status_code"

    def __init__(self, pool: asyncpg.Pool, sender: WebhookSender, policy: RetryPolicy, *, per_endpoint: int,
                 lease: float, on_failed: Callable[[Claimed], Awaitable[None]] | None = None) -> None:
        self._pool, self._sender, self._policy = pool, sender, policy
        self._per_endpoint, self._lease, self._on_failed = per_endpoint, lease, on_failed

    async def claim(self, limit: int, token: UUID) -> list[Claimed]:
        return await deliveries.claim(self._pool, limit, self._per_endpoint, self._lease, token)

    async def seconds_until_due(self) -> float | None:
        return await deliveries.seconds_until_due(self._pool)

    async def send(self, item: Claimed) -> AttemptResult:
        previous = (item.previous_secret,) if item.previous_secret else ()
        return await self._sender.send(item.url, item.secret, str(item.notice_id), item.body, *previous)

    def decide(self, item: Claimed, result: AttemptResult, rand: Callable[[], float]) -> Decision:
        return decide(item.attempt, result.status_code, result.retry_after, self._policy, rand)

    async def finish(self, item: Claimed, result: AttemptResult, decision: Decision) -> None:
        await deliveries.finish(self._pool, item, result, decision)

    async def release(self, items: list[Claimed]) -> None:
        await deliveries.release(self._pool, items)

    async def after(self, item: Claimed, decision: Decision) -> None:
        if decision.outcome.value == "failed" and self._on_failed is not None:
            await self._on_failed(item)

    def attributes(self, item: Claimed) -> dict[str, str]:
        return {"endpoint_id": str(item.endpoint_id)}


class EmailChannel:
    name, span_name, status_attribute = "email", "smtp send", "ttct.smtp.code"

    def __init__(self, pool: asyncpg.Pool, mailer: Mailer, policy: RetryPolicy, *, lease: float) -> None:
        self._pool, self._mailer, self._policy, self._lease = pool, mailer, policy, lease

    async def claim(self, limit: int, token: UUID) -> list[ClaimedEmail]:
        return await emails.claim(self._pool, limit, self._lease, token)

    async def seconds_until_due(self) -> float | None:
        return await emails.seconds_until_due(self._pool)

    async def send(self, item: ClaimedEmail) -> AttemptResult:
        return await self._mailer.send(str(item.notice_id), item.body, item.address, item.contact_name)

    def decide(self, item: ClaimedEmail, result: AttemptResult, rand: Callable[[], float]) -> Decision:
        return decide_email(item.attempt, result.status_code, self._policy, rand)

    async def finish(self, item: ClaimedEmail, result: AttemptResult, decision: Decision) -> None:
        await emails.finish(self._pool, item, result, decision)

    async def release(self, items: list[ClaimedEmail]) -> None:
        await emails.release(self._pool, items)

    async def after(self, item: ClaimedEmail, decision: Decision) -> None:
        return None

    def attributes(self, item: ClaimedEmail) -> dict[str, str]:
        return {"address": item.address}
