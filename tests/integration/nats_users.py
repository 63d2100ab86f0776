"""A connection as one NATS user, for the permission tests: it uses the inbox prefix the user is allowed, and
collects the permission violations the server reports (a refused publish or subscribe gets no reply, only an
asynchronous error)."""
from __future__ import annotations

import asyncio

import nats


class AsNatsUser:
    def __init__(self, url: str, inbox_prefix: str) -> None:
        self.url, self.inbox_prefix, self.errors = url, inbox_prefix, []

    async def __aenter__(self):
        async def on_error(exc: Exception) -> None:
            self.errors.append(str(exc).lower())

        self.nc = await nats.connect(self.url, error_cb=on_error, max_reconnect_attempts=0,
                                     inbox_prefix=self.inbox_prefix.encode())
        self.js = self.nc.jetstream(timeout=1)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.nc.close()

    async def violated(self, what: str, timeout: float = 5.0) -> bool:
        """Whether the server reported a violation naming `what` (within `timeout`: its report is asynchronous)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            await self.nc.flush()
            if any("permissions violation" in e and what.lower() in e for e in self.errors):
                return True
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.05)
