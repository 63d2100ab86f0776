"""Webhook receivers that misbehave for a while, then answer as they should: one hangs (answers only after the
sender's timeout), one answers 500, one closes the connection halfway through the request's body. A raw asyncio
HTTP/1.1 server, so that it can drop a connection mid-body; every delivery it does take is verified with the
Standard Webhooks reference library, as ttct_dev.receiver does."""
from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from ttct_dev.receiver import Received
from ttct_dev.services import free_port

MODES = ("hang", "error", "close-mid-body")


class MisbehavingReceiver:
    """POST /hooks/{org}: `modes[org]` (one of MODES) applies until `until`, then the receiver takes deliveries."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.received: dict[str, list[Received]] = defaultdict(list)
        self.modes: dict[str, str] = {}
        self.until = 0.0
        self.hang = 5.0
        self.misbehaved: dict[str, int] = defaultdict(int)
        self.port = 0
        self._server: asyncio.Server | None = None

    def url(self, org: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{org}"

    def unique(self, org: str, kind: str | None = None) -> list[Received]:
        seen: dict[str, Received] = {}
        for r in self.received[org]:
            if r.verified and (kind is None or r.payload.get("type") == kind):
                seen.setdefault(r.webhook_id, r)
        return list(seen.values())

    async def start(self) -> MisbehavingReceiver:
        self.port = self.port or free_port()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {k.strip().lower(): v.strip() for k, v in
                           (line.split(":", 1) for line in lines[1:] if ":" in line)}
                length = int(headers.get("content-length", 0))
                org = path.rsplit("/", 1)[-1]
                mode = self.modes.get(org) if time.monotonic() < self.until else None
                if mode == "close-mid-body":
                    await reader.readexactly(length // 2)
                    self.misbehaved[org] += 1
                    writer.transport.abort()
                    return
                body = await reader.readexactly(length)
                if mode == "hang":
                    self.misbehaved[org] += 1
                    await asyncio.sleep(self.hang)  # past the sender's timeout: it has given this attempt up
                    writer.transport.abort()
                    return
                if mode == "error":
                    self.misbehaved[org] += 1
                    status = 500
                else:
                    try:
                        Webhook(self.secrets[org]).verify(body, headers)
                        verified = True
                    except (KeyError, WebhookVerificationError):
                        verified = False
                    self.received[org].append(Received(headers.get("webhook-id", ""), json.loads(body), verified))
                    status = 204 if verified else 401
                writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError, ValueError):
            writer.transport.abort()
