"""Builders for the notification service's integration tests: events on the wire, a webhook receiver that
verifies with the Standard Webhooks reference library, and the service itself run in-process."""
from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import httpx
import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ttct.contracts import ClassOpened, DomainEvent, Envelope, EventMetadata, LearnerEnrolled, ScoreRecorded
from ttct.contracts.types import GradeBand, SendingOrganisation
from ttct.eventstore import make_envelopes


def envelope(stream_id: str, event: DomainEvent, province: str, centre: str = "hau-loc", version: int = 1) -> Envelope:
    meta = EventMetadata(province=province, centre=centre, correlation_id=uuid4())
    [env] = make_envelopes(stream_id, version - 1, [event], meta, now=datetime.now(UTC), new_id=uuid4)
    return env


async def publish(js, envelopes: list[Envelope], *, again: bool = False) -> None:
    """Publish as the relay does (Nats-Msg-Id = event id); `again` sends a copy JetStream cannot deduplicate,
    as a redelivery after the duplicate window would be."""
    for env in envelopes:
        msg_id = f"{env.event_id}-again-{uuid4()}" if again else str(env.event_id)
        await js.publish(env.subject, env.model_dump_json().encode(), headers={"Nats-Msg-Id": msg_id})


@dataclass
class Cohort:
    """One class of a centre and its learners, each sent by an organisation, with the events that tell it."""

    province: str
    class_id: UUID = field(default_factory=uuid4)
    title: str = "Lớp Sơ cấp lý luận chính trị khóa 1"
    learners: list[tuple[UUID, str, SendingOrganisation]] = field(default_factory=list)

    def opened(self) -> Envelope:
        return envelope(f"scheduling:class:{self.class_id}", ClassOpened(
            class_id=self.class_id, programme_type="so_cap_llct", title=self.title, capacity=60,
            starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 20), venue="Hội trường"), self.province)

    def enrol(self, full_name: str, org: str, org_name: str = "Đảng ủy xã Hoa Lộc") -> Envelope:
        learner = (uuid4(), full_name, SendingOrganisation(code=org, name=org_name))
        self.learners.append(learner)
        return envelope(f"enrolment:roster:{self.class_id}", LearnerEnrolled(
            class_id=self.class_id, class_title=self.title, learner_id=learner[0], full_name=full_name,
            date_of_birth=date(1990, 5, 17), sending_organisation=learner[2], seat_number=len(self.learners),
        ), self.province, version=len(self.learners))

    def score(self, index: int, score: str = "8.5", band: GradeBand = GradeBand.gioi) -> Envelope:
        learner_id, full_name, org = self.learners[index]
        return envelope(f"assessment:result:{self.class_id}:{learner_id}", ScoreRecorded(
            class_id=self.class_id, class_title=self.title, learner_id=learner_id, full_name=full_name,
            sending_organisation=org, score=Decimal(score), grade_band=band), self.province)


@dataclass
class Hit:
    webhook_id: str
    verified: bool
    status: int
    payload: dict
    at: float


@dataclass
class Receiver:
    """POST /hooks/{org}: every request verified with the reference library against `secrets[org]`; answers
    from `script[org]` first (status, headers), then 204; `delay[org]` seconds before answering."""

    secrets: dict[str, str] = field(default_factory=dict)
    script: dict[str, list[tuple[int, dict]]] = field(default_factory=lambda: defaultdict(list))
    delay: dict[str, float] = field(default_factory=dict)
    hits: dict[str, list[Hit]] = field(default_factory=lambda: defaultdict(list))
    port: int = 0
    _server: uvicorn.Server | None = None
    _task: asyncio.Task | None = None

    def url(self, org: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{org}"

    async def _hook(self, request: Request) -> Response:
        org = request.path_params["org"]
        body = await request.body()
        try:
            Webhook(self.secrets[org]).verify(body, dict(request.headers))
            verified = True
        except (KeyError, WebhookVerificationError):
            verified = False
        if self.delay.get(org):
            await asyncio.sleep(self.delay[org])
        status, headers = self.script[org].pop(0) if self.script[org] and verified else (204 if verified else 401, {})
        self.hits[org].append(Hit(request.headers.get("webhook-id", ""), verified, status, json.loads(body),
                                  time.monotonic()))
        return Response(status_code=status, headers=headers)

    def delivered(self, org: str) -> dict[str, Hit]:
        """Verified, accepted deliveries by webhook-id."""
        return {h.webhook_id: h for h in self.hits[org] if h.verified and 200 <= h.status < 300}

    async def start(self) -> Receiver:
        app = Starlette(routes=[Route("/hooks/{org}", self._hook, methods=["POST"])])
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None,
                                                     access_log=False, lifespan="off"))
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.02)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
            await self._task


async def eventually(check, timeout: float = 20.0, interval: float = 0.05):
    """Await `check()` until it returns something truthy; fail with its last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            assert value, f"not reached in {timeout} s: {value!r}"
            return value
        await asyncio.sleep(interval)


@dataclass
class Running:
    app: object
    http: httpx.AsyncClient
    lifespan: object
    stopped: bool = False

    async def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.http.aclose()
            await self.lifespan.__aexit__(None, None, None)
