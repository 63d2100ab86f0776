"""A sending organisation's webhook receiver, for the demo and the tests: it verifies every delivery with the
Standard Webhooks reference library (not with the project's own signing code) and keeps what it received."""
from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ttct_dev.services import free_port


@dataclass
class Received:
    webhook_id: str
    payload: dict
    verified: bool


@dataclass
class WebhookReceiver:
    """POST /hooks/{org}: verified against the org's secret once `secrets[org]` is known."""

    secrets: dict[str, str] = field(default_factory=dict)
    received: dict[str, list[Received]] = field(default_factory=lambda: defaultdict(list))
    fail_next: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    fail_only: dict[str, str] = field(default_factory=dict)
    """org -> the kind of notice (payload `type`) its `fail_next` answers are for; other notices go through, so a
    notice that happens to arrive meanwhile does not take a failure meant for another."""
    port: int = 0
    _server: uvicorn.Server | None = None
    _task: asyncio.Task | None = None

    def url(self, org: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{org}"

    async def _hook(self, request: Request) -> Response:
        org = request.path_params["org"]
        body = await request.body()
        if self.fail_next[org] and (org not in self.fail_only
                                    or json.loads(body).get("type") == self.fail_only[org]):
            return Response(status_code=self.fail_next[org].pop(0))
        try:
            Webhook(self.secrets[org]).verify(body, dict(request.headers))
            verified = True
        except (KeyError, WebhookVerificationError):
            verified = False
        self.received[org].append(Received(request.headers.get("webhook-id", ""), json.loads(body), verified))
        return Response(status_code=204 if verified else 401)

    def unique(self, org: str, kind: str | None = None) -> list[Received]:
        """Deliveries by distinct webhook-id (a retried delivery of one notice counts once, as per the spec),
        of one kind of notice (the payload's `type`) if given."""
        seen: dict[str, Received] = {}
        for r in self.received[org]:
            if r.verified and (kind is None or r.payload.get("type") == kind):
                seen.setdefault(r.webhook_id, r)
        return list(seen.values())

    async def at_least(self, org: str, count: int, timeout: float = 30.0) -> list[Received]:
        """`unique(org)` once it holds `count` notices; AssertionError naming what came if not within `timeout`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.unique(org)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{org}: {[r.payload['type'] for r in self.unique(org)]}")
            await asyncio.sleep(0.1)
        return self.unique(org)

    async def start(self) -> WebhookReceiver:
        self.port = self.port or free_port()
        app = Starlette(routes=[Route("/hooks/{org}", self._hook, methods=["POST"])])
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None,
                                                     access_log=False, lifespan="off", timeout_graceful_shutdown=2))
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.02)
        return self

    async def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
            try:  # a sender's request still in flight must not keep a test waiting forever
                await asyncio.wait_for(self._task, 10)
            except TimeoutError:
                self._server.force_exit = True
                self._task.cancel()
