"""A guard for loops that must stop when their task is cancelled.

On Python 3.11 `asyncio.wait_for` (used inside asyncpg and nats-py) can swallow a cancellation that arrives
just as the awaited call completes; a `while True` loop would then run on and its owner wait for it forever.
"""
from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
