"""Pulling a durable JetStream consumer and handing each fetched batch, in order, to a ProjectionRunner.

A plain nats-py pull loop rather than FastStream's pull subscriber: FastStream's per-message subscriber runs a
fetched batch's messages concurrently (losing the order per stream), and its batch subscriber collects until
the batch is full or a timeout passes (latency) and, here, let fetch timeouts escape into restarts of its task
with growing delays (stalled delivery). nats-py's `fetch` returns as soon as any message is there, so a long
fetch timeout costs no latency. FastStream still documents the consumers (ttct_dev.asyncapi).
"""
from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext

from ttct.eventsourcing.consumer import RETRY_DELAYS, ProjectionRunner

log = structlog.get_logger("ttct.eventsourcing.subscribers")


class PullConsumer:
    def __init__(self, js: JetStreamContext, stream: str, durable: str, runner: ProjectionRunner, *,
                 batch_size: int = 200, fetch_timeout: float = 1.0) -> None:
        self._js, self.stream, self.durable, self._runner = js, stream, durable, runner
        self._batch_size, self._fetch_timeout = batch_size, fetch_timeout
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Stop pulling; the batch in hand is finished (committed and acked) first."""
        self._stopping.set()

    async def run(self) -> None:
        subscription = await self._js.pull_subscribe_bind(self.durable, self.stream)
        try:
            while not self._stopping.is_set():
                try:
                    messages = await subscription.fetch(self._batch_size, timeout=self._fetch_timeout)
                except (TimeoutError, NatsTimeout):
                    continue
                except ConnectionClosedError:
                    return
                except Exception as exc:  # a NATS hiccup: unacked messages come back after ack_wait
                    log.warning("fetch failed", stream=self.stream, consumer=self.durable, error=repr(exc))
                    await asyncio.sleep(0.5)
                    continue
                try:
                    await asyncio.shield(self._runner.handle_batch(messages))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # even dead-lettering failed (database down): let JetStream retry all
                    log.error("batch not handled; redelivering", consumer=self.durable, error=repr(exc))
                    for msg in messages:
                        with contextlib.suppress(Exception):
                            await msg.nak(delay=RETRY_DELAYS[1])
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
