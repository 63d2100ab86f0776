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
from ttct.eventsourcing.eventstore import make_envelopes
from ttct.privacy.personal import legacy_sealed  # events as a v1 producer wrote them: names readable without a vault


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
            class_id=self.class_id, class_title=self.title, learner_id=learner[0],
            personal=legacy_sealed(learner[0], full_name, date(1990, 5, 17)), sending_organisation=learner[2],
            seat_number=len(self.learners),
        ), self.province, version=len(self.learners))

    def score(self, index: int, score: str = "8.5", band: GradeBand = GradeBand.gioi) -> Envelope:
        learner_id, full_name, org = self.learners[index]
        return envelope(f"assessment:result:{self.class_id}:{learner_id}", ScoreRecorded(
            class_id=self.class_id, class_title=self.title, learner_id=learner_id,
            personal=legacy_sealed(learner_id, full_name), sending_organisation=org, score=Decimal(score),
            grade_band=band), self.province)


@dataclass
class Hit:
    webhook_id: str
    verified: bool
    status: int
    payload: dict
    at: float
    body: bytes = b""
    headers: dict = field(default_factory=dict)


@dataclass
class Receiver:
    """POST /hooks/{org}: every request verified with the reference library against `secrets[org]`; answers
    from `script[org]` first (status, headers), then 204; `delay[org]` seconds before answering.

    With `watch`, only notices of those types are scripted, delayed and counted in `hits`; the others are
    answered 204 at once and kept in `others` (tests of one kind ignore the rest)."""

    watch: set[str] | None = None
    started: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # requests begun, by org
    others: dict[str, list[Hit]] = field(default_factory=lambda: defaultdict(list))
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
        self.started[org] += 1
        body = await request.body()
        try:
            Webhook(self.secrets[org]).verify(body, dict(request.headers))
            verified = True
        except (KeyError, WebhookVerificationError):
            verified = False
        payload = json.loads(body)
        if self.watch is not None and payload.get("type") not in self.watch:
            self.others[org].append(Hit(request.headers.get("webhook-id", ""), verified, 204, payload,
                                        time.monotonic()))
            return Response(status_code=204 if verified else 401)
        if self.delay.get(org):
            await asyncio.sleep(self.delay[org])
        status, headers = self.script[org].pop(0) if self.script[org] and verified else (204 if verified else 401, {})
        self.hits[org].append(Hit(request.headers.get("webhook-id", ""), verified, status, payload,
                                  time.monotonic(), body, dict(request.headers)))
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


# --- the other kinds of notice (issue 4) -----------------------------------------------------------------------

def registered(province: str, code: str, name: str, contacts: list[dict], kind: str = "party-committee") -> Envelope:
    from ttct.contracts.sending_organisation_registered import SendingOrganisationRegistered
    from ttct.contracts.types import OrganisationContact
    return envelope(f"enrolment:organisation:{code}", SendingOrganisationRegistered(
        code=code, name=name, kind=kind, parent_code="hau-loc",
        contacts=[OrganisationContact(**c) for c in contacts]), province)


@dataclass
class Course(Cohort):
    """A Cohort whose events run the course: waiting list, attendance, eligibility, finalisation, cancellation."""

    versions: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def _next(self, stream: str) -> int:
        self.versions[stream] += 1
        return self.versions[stream]

    def org(self, index: int) -> SendingOrganisation:
        return self.learners[index][2]

    def join(self, full_name: str, org: str, org_name: str = "Đảng ủy xã Hoa Lộc", *, waitlisted: bool = False,
             promoted: bool = False) -> Envelope:
        from ttct.contracts.learner_waitlisted import LearnerWaitlisted
        stream = f"enrolment:roster:{self.class_id}"
        if promoted:
            learner_id, full_name, organisation = next(x for x in self.learners if x[1] == full_name)
        else:
            learner_id, organisation = uuid4(), SendingOrganisation(code=org, name=org_name)
            self.learners.append((learner_id, full_name, organisation))
        common = dict(class_id=self.class_id, class_title=self.title, learner_id=learner_id,
                      personal=legacy_sealed(learner_id, full_name, date(1990, 5, 17)),
                      sending_organisation=organisation)
        event = (LearnerWaitlisted(**common, position=1) if waitlisted else
                 LearnerEnrolled(**common, seat_number=len(self.learners), from_waiting_list=promoted))
        return envelope(stream, event, self.province, version=self._next(stream))

    def attendance(self, index: int, status: str, session_id: UUID | None = None,
                   on: date = date(2026, 12, 3)) -> Envelope:
        from ttct.contracts.attendance_recorded import AttendanceRecorded
        learner_id, full_name, org = self.learners[index]
        stream = f"assessment:attendance:{self.class_id}"
        return envelope(stream, AttendanceRecorded(
            class_id=self.class_id, session_id=session_id or uuid4(), session_date=on, learner_id=learner_id,
            personal=legacy_sealed(learner_id, full_name), sending_organisation=org, status=status), self.province,
            version=self._next(stream))

    def ineligible(self, index: int) -> Envelope:
        from ttct.contracts.eligibility_lost import EligibilityLost
        learner_id, full_name, org = self.learners[index]
        stream = f"assessment:attendance:{self.class_id}"
        return envelope(stream, EligibilityLost(
            class_id=self.class_id, class_title=self.title, learner_id=learner_id,
            personal=legacy_sealed(learner_id, full_name), sending_organisation=org, sessions_counted=10, absences=3, max_absence_ratio=Decimal("0.2")),
            self.province, version=self._next(stream))

    def finalise(self, results: dict[int, tuple[str | None, str | None, str | None]]) -> list[Envelope]:
        """results: learner index -> (score, grade band, certificate number); score None = ineligible."""
        from ttct.contracts.class_results_finalised import ClassResultsFinalised
        from ttct.contracts.learner_result_finalised import LearnerResultFinalised
        stream = f"assessment:class:{self.class_id}"
        out, passed = [], 0
        for index, (score, band, certificate) in results.items():
            learner_id, full_name, org = self.learners[index]
            ok = score is not None and band != "khong_dat"
            passed += ok
            out.append(envelope(stream, LearnerResultFinalised(
                class_id=self.class_id, class_title=self.title, learner_id=learner_id,
                personal=legacy_sealed(learner_id, full_name), sending_organisation=org, eligible=score is not None,
                final_score=Decimal(score) if score else None, grade_band=GradeBand(band) if band else None,
                passed=ok, conduct="tot" if ok else "kha", sessions_attended=9 if score else 6, sessions_counted=10,
                certificate_number=certificate), self.province, version=self._next(stream)))
        out.append(envelope(stream, ClassResultsFinalised(
            class_id=self.class_id, class_title=self.title, programme_type="so_cap_llct", learners=len(results),
            passed=passed), self.province, version=self._next(stream)))
        return out

    def cancel(self, reason: str = "Không đủ số học viên tối thiểu") -> Envelope:
        from ttct.contracts.class_cancelled import ClassCancelled
        stream = f"scheduling:class:{self.class_id}"
        return envelope(stream, ClassCancelled(class_id=self.class_id, class_title=self.title, reason=reason),
                        self.province, version=1 + self._next(stream))


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: object  # email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()

    def pdf_text(self) -> str | None:
        import io

        from pypdf import PdfReader
        for part in self.message.iter_attachments():
            if part.get_content_type() == "application/pdf":
                reader = PdfReader(io.BytesIO(part.get_content()))
                return "\n".join(page.extract_text() for page in reader.pages)
        return None


class SmtpServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and a free port, in its own thread; `mails` what arrived.
    `refuse` holds addresses answered 550 at RCPT; `fail_next` counts sessions answered 451 at DATA."""

    def __init__(self) -> None:
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.mails: list[Mail] = []
        self.refuse: set[str] = set()
        self.fail_next = 0
        self.rcpt_started = 0
        self.rcpt_delay = 0.0  # seconds to hold each RCPT (a slow server, or one to kill the sender during)
        self._controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd)
        self.rcpt_started += 1
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd)
        import email
        from email import policy
        if self.fail_next:
            self.fail_next -= 1
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.recipients]
