"""Wakes the dispatcher when new deliveries commit, in this replica or any other: PostgreSQL LISTEN/NOTIFY.

The consumer's transaction calls pg_notify, which PostgreSQL delivers only after that transaction commits, so
a woken dispatcher always finds the new rows. If the listening connection is lost the dispatcher still polls;
this only makes it prompt.
"""
from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog

from notification.adapters.notices import WAKE_CHANNEL
from notification.aio import stop_if_cancelled

log = structlog.get_logger("notification.waker")


class Waker:
    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self.event = asyncio.Event()
        self._events = [self.event]
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="notification-listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self) -> asyncio.Event:
        """Another event set on every nudge (one per dispatcher: each clears its own)."""
        event = asyncio.Event()
        self._events.append(event)
        return event

    def _notified(self, *_args: object) -> None:
        for event in self._events:
            event.set()

    async def _listen(self) -> None:
        failures = 0
        while True:
            stop_if_cancelled()
            conn = None
            try:
                conn = await asyncpg.connect(self._url)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(WAKE_CHANNEL, self._notified)
                failures = 0
                self._notified()  # anything committed while we were not listening
                await lost.wait()
            except (OSError, asyncpg.PostgresError) as exc:
                failures += 1
                log.warning("cannot listen for new deliveries; polling only", error=repr(exc))
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2))
            await asyncio.sleep(min(0.5 * 2**failures, 30.0))
