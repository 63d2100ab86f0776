"""The daily pass that re-addresses what was still on its way to organisations merged or dissolved with an
effective day ahead of when the change was recorded: run every `SUCCESSION_CHECK_INTERVAL` by one replica at a
time (an advisory lock), each pass one transaction, so nothing is re-addressed twice or half."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import asyncpg
import structlog

from notification.adapters import successions
from notification.aio import stop_if_cancelled

log = structlog.get_logger("notification.successions")


async def readdress_due(pool: asyncpg.Pool, now: datetime, *, email: bool) -> tuple[int, int]:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('notification-successions'))")
        return await successions.readdress(conn, now, email=email)


async def run(pool: asyncpg.Pool, interval: float, clock: Callable[[], datetime], *, email: bool) -> None:
    while True:
        stop_if_cancelled()
        await asyncio.sleep(interval)
        try:
            moved, disabled = await readdress_due(pool, clock(), email=email)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("cannot re-address notices of merged organisations; will retry", error=repr(exc))
            continue
        if moved or disabled:
            log.info("notices re-addressed to successors", notices=moved, endpoints_disabled=disabled)
