"""The dispatcher: claims a channel's due deliveries, sends them concurrently, records each attempt. One runs per
channel (webhooks, email); what differs between channels is in `channels.py`.

It sleeps until the next delivery is due, a new one commits (the waker's nudge) or an in-flight send finishes,
and never longer than the poll interval, which also picks up leases left by a replica that died.
"""
from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import structlog
from opentelemetry import trace
from ttct.operations.telemetry import context_from

from notification.aio import stop_if_cancelled
from notification.domain.backoff import Outcome
from notification.service_layer.channels import Channel

log = structlog.get_logger("notification.dispatcher")
tracer = trace.get_tracer("notification.dispatcher")


@dataclass(frozen=True)
class Limits:
    concurrency: int = 50
    per_endpoint: int = 4
    lease: float = 60.0
    poll_interval: float = 1.0
    shutdown_grace: float = 5.0


class Dispatcher:
    def __init__(self, channel: Channel, limits: Limits, nudge: asyncio.Event, *,
                 rand: Callable[[], float] = random.random, new_token: Callable[[], UUID] = uuid4) -> None:
        self._channel, self._limits = channel, limits
        self._nudge, self._rand, self._new_token = nudge, rand, new_token
        self._inflight: dict[asyncio.Task, Any] = {}

    async def run(self) -> None:
        try:
            while True:
                stop_if_cancelled()
                await self._step()
        finally:
            await self._drain()

    async def _step(self) -> None:
        self._nudge.clear()  # before looking, so a nudge that arrives meanwhile is not lost
        free = self._limits.concurrency - len(self._inflight)
        try:
            claimed = await self._channel.claim(free, self._new_token()) if free > 0 else []
            due = await self._channel.seconds_until_due()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("cannot claim deliveries; retrying", error=repr(exc))
            await asyncio.sleep(self._limits.poll_interval)
            return
        for item in claimed:
            task = asyncio.create_task(self._deliver(item), name=f"deliver-{item.delivery_id}")
            self._inflight[task] = item
            task.add_done_callback(self._done)
        if claimed and due is not None and due <= 0 and len(claimed) < free:
            return  # more became due while claiming
        timeout = self._limits.poll_interval
        if due is not None and due > 0:
            timeout = min(timeout, due)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._nudge.wait(), timeout)

    def _done(self, task: asyncio.Task) -> None:
        self._inflight.pop(task, None)
        self._nudge.set()  # a slot is free

    async def _deliver(self, item: Any) -> None:
        channel = self._channel
        try:
            with tracer.start_as_current_span(channel.span_name, kind=trace.SpanKind.CLIENT,
                                              context=context_from(getattr(item, "traceparent", None)), attributes={
                "ttct.notice_id": str(item.notice_id), "ttct.delivery.attempt": item.attempt,
                **channel.attributes(item),
            }) as span:
                result = await channel.send(item)
                if result.status_code is not None:
                    span.set_attribute(channel.status_attribute, result.status_code)
            decision = channel.decide(item, result, self._rand)
            await self._record(item, result, decision)
        except asyncio.CancelledError:
            raise
        except Exception:  # never lose the loop to one delivery: its lease expires and it is tried again
            log.exception("delivery attempt crashed", delivery_id=str(item.delivery_id))

    async def _record(self, item: Any, result: Any, decision: Any) -> None:
        for wait in (0.2, 1.0, 3.0, None):
            try:
                await self._channel.finish(item, result, decision)
                break
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                if wait is None:
                    raise  # the lease will expire and the notice be sent again, with the same webhook-id
                await asyncio.sleep(wait)
        name = self._channel.name
        fields = {"notice_id": str(item.notice_id), "organisation": item.organisation, "attempt": item.attempt,
                  "status_code": result.status_code, "latency_ms": result.latency_ms,
                  **self._channel.attributes(item)}
        match decision.outcome:
            case Outcome.delivered:
                log.info(f"{name} delivered", **fields)
            case Outcome.retry:
                log.warning(f"{name} attempt failed; will retry", error=result.error,
                            retry_in=round(decision.delay or 0, 3), **fields)
            case Outcome.failed:
                log.error(f"{name} delivery failed: no attempt left", error=result.error, **fields)
            case Outcome.endpoint_gone:
                log.warning("endpoint answered 410 Gone; disabled", **fields)
        with contextlib.suppress(Exception):
            await self._channel.after(item, decision)

    async def _drain(self) -> None:
        """On shutdown: let in-flight sends finish for a moment, then give the rest back to be sent again."""
        if not self._inflight:
            return
        _, pending = await asyncio.wait(list(self._inflight), timeout=self._limits.shutdown_grace)
        cut_short = [self._inflight[t] for t in pending if t in self._inflight]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if cut_short:
            with contextlib.suppress(Exception):
                await self._channel.release(cut_short)
            log.warning("shutdown interrupted deliveries; they will be sent again", count=len(cut_short))
