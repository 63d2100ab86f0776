"""A steady mixed load through the HTTP API, round-robin over each service's replicas, as a load balancer and a
careful client would send it: every command carries an Idempotency-Key and is sent again with the same key after a
connection error or a 503 (after its Retry-After), on the next replica. Each command's outcome is kept in a
ledger, so the harness can later ask: is every command answered 2xx in the store, once?

A learner's flow: enrol in the current class (enrolment), mark them present at its session (assessment, once
assessment knows the learner), record their score (assessment; the score makes a notice that notification sends to
the sending organisation's webhook). Every `CLASS_EVERY` flows the centre opens a new class and schedules its
session (scheduling)."""
from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from ttct_dev.directory import register_organisations
from ttct_dev.tokens import LocalIssuer

CENTRE = "hau-loc"
ORGANISATIONS = [("xa-hoa-loc", "Đảng ủy xã Hoa Lộc"), ("xa-lien-loc", "Đảng ủy xã Liên Lộc"),
                 ("tt-hau-loc", "Đảng ủy thị trấn Hậu Lộc")]
CLASS_EVERY = 25
COMMAND_BUDGET = 120.0  # a command still not answered 2xx after this is given up (counted, never assumed done)
# answers meaning "another service has not heard of it yet": the same command is sent again shortly
NOT_YET = ("class-unknown", "learner-not-in-class", "session-unknown", "learner-unknown", "not-known")
FIRST_DAY = date(2027, 1, 4)


@dataclass
class Command:
    kind: str  # class, session, enrolment, attendance, score
    key: str
    started: float
    status: int | None = None  # the final answer; None: never answered (given up)
    answered: float | None = None
    ids: dict[str, str] = field(default_factory=dict)  # what the answer named: class_id, learner_id, …
    detail: str = ""
    answers: list[str] = field(default_factory=list)  # each attempt's answer, for the report of a command given up

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Attempt:
    at: float
    service: str
    replica: str
    status: int | None  # None: the connection failed
    retry_after: str | None = None


@dataclass
class Ledger:
    commands: list[Command] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    def accepted(self, kind: str) -> list[Command]:
        return [c for c in self.commands if c.kind == kind and c.accepted]

    def window(self, start: float, end: float) -> tuple[int, int]:
        """Commands started within [start, end) and how many of those were accepted."""
        inside = [c for c in self.commands if start <= c.started < end]
        return len(inside), sum(c.accepted for c in inside)

    def refused_answers(self) -> Counter:
        return Counter(a.status for a in self.attempts if a.status is not None and a.status >= 500)

    def connection_errors(self) -> int:
        return sum(a.status is None for a in self.attempts)


class Load:
    """Offers `rate` learner flows a second (three commands each) until stop()."""

    def __init__(self, urls: dict[str, list[str]], issuer: LocalIssuer, receiver_url, *, rate: float = 3.0,
                 province: str = "thanh-hoa") -> None:
        self.urls, self.issuer, self.rate, self.province = urls, issuer, rate, province
        self.receiver_url = receiver_url
        self.ledger = Ledger()
        self.secrets: dict[str, str] = {}
        self._next = {s: itertools.cycle(range(len(u))) for s, u in urls.items()}
        self._headers = issuer.headers("centre-staff", centre=CENTRE, province=province)
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(40.0, connect=2.0),
                                       limits=httpx.Limits(max_connections=200))
        self._flows: set[asyncio.Task] = set()
        self._running = False
        self._task: asyncio.Task | None = None
        self._class: tuple[str, str] | None = None  # (class_id, session_id) the flows enrol in
        self._classes = 0
        self._lecturer: str | None = None
        self.new_classes = True  # False: the flows keep to the current class (its facts reach every service)
        self.started = self.stopped = 0.0

    def set_urls(self, service: str, urls: list[str]) -> None:
        self.urls[service] = urls
        self._next[service] = itertools.cycle(range(len(urls)))

    async def command(self, kind: str, service: str, method: str, path: str, body: dict | None = None, *,
                      headers: dict[str, str] | None = None) -> Command:
        cmd = Command(kind, str(uuid.uuid4()), time.monotonic())
        self.ledger.commands.append(cmd)
        deadline = cmd.started + COMMAND_BUDGET
        waits = 0
        while time.monotonic() < deadline:
            i = next(self._next[service])
            url = self.urls[service][i]
            try:
                r = await self._http.request(method, f"{url}{path}", json=body, headers={
                    **(headers or self._headers), "Idempotency-Key": cmd.key})
            except httpx.TransportError:
                self.ledger.attempts.append(Attempt(time.monotonic(), service, f"{service}-{i}", None))
                cmd.answers.append(f"{time.monotonic() - cmd.started:.1f}s {service}-{i}: connection failed")
                await asyncio.sleep(0.1)  # the balancer tries the next replica
                continue
            self.ledger.attempts.append(Attempt(time.monotonic(), service, f"{service}-{i}", r.status_code,
                                                r.headers.get("retry-after")))
            cmd.answers.append(f"{time.monotonic() - cmd.started:.1f}s {service}-{i}: {r.status_code} "
                               f"{r.text[:80] if r.status_code >= 400 else ''}")
            if r.status_code in (502, 503, 504):
                await asyncio.sleep(min(float(r.headers.get("retry-after") or 1), 2.0))
                continue
            problem = r.json().get("type", "") if r.headers.get("content-type", "").endswith("json") and \
                r.status_code >= 400 else ""
            if r.status_code in (404, 409) and problem.endswith(NOT_YET) or r.status_code == 429:
                # a 4xx answer is kept under its key and answered again to a retry with it: a new attempt at a
                # command refused only because a fact had not arrived yet (or too many were sent) is a new request,
                # with a new key; backing off, as the rate limit asks
                cmd.key = str(uuid.uuid4())
                waits += 1
                await asyncio.sleep(float(r.headers.get("retry-after") or 0) or min(0.2 * waits, 1.0))
                continue
            if r.status_code == 409 and "in-progress" in problem:
                await asyncio.sleep(0.2)
                continue
            cmd.status, cmd.answered = r.status_code, time.monotonic()
            if problem.endswith("idempotency-answer-lost"):
                cmd.detail = "done, its answer lost"  # the service says the work was done: not accepted, not refused
                return cmd
            if cmd.accepted:
                cmd.ids = {k: v for k, v in r.json().items() if k.endswith("_id") and isinstance(v, str)} \
                    if isinstance(r.json(), dict) else {}
            else:
                cmd.detail = r.text[:300]
            return cmd
        cmd.detail = f"given up: {cmd.kind} {method} {path}; " + " | ".join(cmd.answers[:3] + ["…"] + cmd.answers[-4:])
        return cmd

    async def prepare(self) -> None:
        """The organisations in the directory with their webhook endpoints, a lecturer, the first class."""
        await register_organisations(self._http, self.urls["enrolment"][0], dict(ORGANISATIONS), headers=self._headers)
        for code, _ in ORGANISATIONS:
            r = await self._http.post(f"{self.urls['notification'][0]}/v1/organisations/{code}/webhook-endpoints",
                                      json={"url": self.receiver_url(code), "description": "Văn phòng cấp ủy"},
                                      headers=self.issuer.headers("organisation", org=code, province=self.province))
            r.raise_for_status()
            self.secrets[code] = r.json()["secret"]
        r = await self._http.post(f"{self.urls['scheduling'][0]}/v1/lecturers", headers=self._headers,
                                  json={"full_name": "Lê Văn Giảng", "kind": "collaborator"})
        r.raise_for_status()
        self._lecturer = r.json()["lecturer_id"]
        await self._new_class()
        if self._class is None:
            raise RuntimeError("the first class could not be opened")

    async def _new_class(self) -> None:
        n = self._classes = self._classes + 1
        day = FIRST_DAY + timedelta(days=n)
        c = await self.command("class", "scheduling", "POST", f"/v1/centres/{CENTRE}/classes", {
            "programme_type": "chuyen_de", "title": f"Chuyên đề thời sự số {n}", "capacity": 1000,
            "starts_on": FIRST_DAY.isoformat(), "ends_on": (FIRST_DAY + timedelta(days=360)).isoformat(),
            "venue": "Hội trường"})
        if not c.accepted:
            return
        class_id = c.ids["class_id"]
        s = await self.command("session", "scheduling", "POST",
                               f"/v1/centres/{CENTRE}/classes/{class_id}/sessions", {
                                   "session_date": day.isoformat(), "starts_at": "07:30", "ends_at": "11:00",
                                   "topic": f"Chuyên đề {n}", "lecturer_id": self._lecturer,
                                   "field_trip_site": "Khu di tích Hàm Rồng"})
        s.ids.setdefault("class_id", class_id)
        if s.accepted:
            self._class = (class_id, s.ids["session_id"])

    async def flow(self, n: int, *, score: float | None = None) -> Command | None:
        """One learner's flow; the score's command (None if an earlier step was not accepted)."""
        if n and n % CLASS_EVERY == 0 and self.new_classes:
            await self._new_class()
        class_id, session_id = self._class
        code, name = ORGANISATIONS[n % len(ORGANISATIONS)]
        base = f"/v1/centres/{CENTRE}/classes/{class_id}"
        e = await self.command("enrolment", "enrolment", "POST", f"{base}/enrolments", {
            "full_name": f"Nguyễn Văn Học {n}", "date_of_birth": f"19{70 + n % 30}-0{1 + n % 9}-1{n % 9}",
            "sending_organisation": {"code": code, "name": name}})
        if not e.accepted:
            return None
        learner = e.ids["learner_id"]
        a = await self.command("attendance", "assessment", "PUT", f"{base}/sessions/{session_id}/attendance",
                               {"marks": [{"learner_id": learner, "status": "present"}]})
        a.ids = {"learner_id": learner, "session_id": session_id}
        s = await self.command("score", "assessment", "POST", f"{base}/scores",
                               {"learner_id": learner, "score": score or round(5.0 + n % 40 / 10, 1)})
        s.ids = {"learner_id": learner, "class_id": class_id, "organisation": code}
        return s

    async def _offer(self) -> None:
        n = 0
        next_at = time.monotonic()
        while self._running:
            task = asyncio.create_task(self.flow(n))
            self._flows.add(task)
            task.add_done_callback(self._flows.discard)
            n += 1
            next_at += 1 / self.rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    def start(self) -> None:
        self._running, self.started = True, time.monotonic()
        self._task = asyncio.create_task(self._offer())

    async def stop(self) -> None:
        """Stop offering; wait for the flows in hand to finish (answered or given up)."""
        self._running, self.stopped = False, time.monotonic()
        if self._task:
            await self._task
        if self._flows:
            await asyncio.gather(*self._flows, return_exceptions=True)

    async def close(self) -> None:
        await self._http.aclose()
