"""Pulling a durable JetStream consumer and handing each fetched batch, in order, to a ProjectionRunner.

A plain nats-py pull loop rather than FastStream's pull subscriber: FastStream's per-message subscriber runs a
fetched batch's messages concurrently (losing the order per stream), and its batch subscriber collects until
the batch is full or a timeout passes (latency) and, here, let fetch timeouts escape into restarts of its task
with growing delays (stalled delivery). nats-py's `fetch` returns as soon as any message is there, so a long
fetch timeout costs no latency. FastStream still documents the consumers (ttct_dev.asyncapi).

One replica pulls a durable consumer's stream at a time (`Lease`, a PostgreSQL session lock); the others stand
by and take over when it stops or dies. Two replicas pulling one durable share out a backlog's batches, so each
finds most of its events' predecessors still in the other's hands: they wait (NAK), come back in another order,
wait again, and the backlog crawls. Correctness never depends on the lease (the runner's per-stream locks and
checkpoints keep order and exactly-once effects even if two replicas pull for a moment during a takeover); speed
does.
"""
from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext

from ttct.eventsourcing.consumer import RETRY_DELAYS, ProjectionRunner

log = structlog.get_logger("ttct.eventsourcing.subscribers")


class Lease:
    """The right to pull one durable consumer's stream: a session advisory lock on a connection of its own, so it
    is released when the holder stops, crashes or loses its database connection."""

    def __init__(self, database_url: str, name: str, *, retry: float = 2.0) -> None:
        self._url, self.name, self._retry = database_url, name, retry
        self._conn: asyncpg.Connection | None = None

    async def acquire(self, stopping: asyncio.Event) -> bool:
        """Wait until this replica holds the lease (True) or is stopping (False)."""
        while not stopping.is_set():
            try:
                if self._conn is None or self._conn.is_closed():
                    self._conn = await asyncpg.connect(self._url, timeout=10)
                if await self._conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                                             f"ttct-pull/{self.name}"):
                    log.info("pulling", lease=self.name)
                    return True
            except Exception as exc:  # the database is away: try again, nothing is pulled meanwhile
                log.warning("lease not taken", lease=self.name, error=repr(exc))
                await self.release()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._retry)
        return False

    def held(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)


class PullConsumer:
    def __init__(self, js: JetStreamContext, stream: str, durable: str, runner: ProjectionRunner, *,
                 batch_size: int = 200, fetch_timeout: float = 1.0, lease: Lease | None = None) -> None:
        self._js, self.stream, self.durable, self._runner = js, stream, durable, runner
        self._batch_size, self._fetch_timeout = batch_size, fetch_timeout
        self._lease = lease
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Stop pulling; the batch in hand is finished (committed and acked) first."""
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            if self._lease is not None and not await self._lease.acquire(self._stopping):
                return
            try:
                if not await self._pull():
                    return
            finally:
                if self._lease is not None:
                    await self._lease.release()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _pull(self) -> bool:
        """Pull until stopping (False: the connection to NATS is closed for good) or the lease is lost (True)."""
        subscription = await self._js.pull_subscribe_bind(self.durable, self.stream)
        try:
            while not self._stopping.is_set():
                if self._lease is not None and not self._lease.held():
                    log.warning("lease lost; standing by", stream=self.stream, consumer=self.durable)
                    return True
                try:
                    messages = await subscription.fetch(self._batch_size, timeout=self._fetch_timeout)
                except (TimeoutError, NatsTimeout):
                    continue
                except ConnectionClosedError:
                    return False
                except Exception as exc:  # a NATS hiccup: unacked messages come back after ack_wait
                    log.warning("fetch failed", stream=self.stream, consumer=self.durable, error=repr(exc))
                    await self._pause(0.5)
                    continue
                try:
                    pause = await asyncio.shield(self._runner.handle_batch(messages))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # even NAKing failed: let JetStream retry all after ack_wait
                    log.error("batch not handled; redelivering", consumer=self.durable, error=repr(exc))
                    for msg in messages:
                        with contextlib.suppress(Exception):
                            await msg.nak(delay=RETRY_DELAYS[1])
                    pause = RETRY_DELAYS[1]
                if pause:  # the database or the key vault is away: fetch nothing that cannot be applied yet
                    await self._pause(pause)
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        return False
