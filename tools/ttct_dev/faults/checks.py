"""After a fault: is every command answered 2xx in the store, once? Does `python -m ttct.admin verify` find
nothing missing or doubled? Does every organisation's receiver hold exactly one delivery per notice? Do the reading
services' projections equal a rebuild (ttct_dev.faults.rebuilt)?"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg
from ttct.eventsourcing.topology import READS

from ttct_dev.faults.fleet import Fleet
from ttct_dev.faults.load import ORGANISATIONS, Ledger
from ttct_dev.receiver import WebhookReceiver

RESULT = "learner.result_recorded"
READERS = tuple(service for service, contexts in READS.items() if contexts)  # the services with projections
# kind of command -> (service whose store holds it, its event type, the payload field naming it)
STORED = {"class": ("scheduling", "ClassOpened", "class_id"),
          "session": ("scheduling", "SessionScheduled", "session_id"),
          "enrolment": ("enrolment", "LearnerEnrolled", "learner_id"),
          "attendance": ("assessment", "AttendanceRecorded", "learner_id"),
          "score": ("assessment", "ScoreRecorded", "learner_id")}


@dataclass
class Audit:
    lost: int = 0  # commands answered 2xx whose event is not in the store; notices never delivered
    doubled: int = 0  # commands stored twice; notices delivered under two webhook-ids
    verify_status: int | None = None
    verify_findings: Counter = field(default_factory=Counter)
    notices_expected: int = 0
    notices_received: int = 0
    deliveries: int = 0  # every delivery, retries of a notice included
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.lost and not self.doubled and self.verify_status == 0


@dataclass
class Rebuilt:
    """Each reading service's projections compared with a rebuild of them."""

    rows: dict[str, int] = field(default_factory=dict)  # service -> rows compared
    differences: list[str] = field(default_factory=list)  # "service: table [key]: before …, after rebuild …"
    verify_status: int | None = None  # `ttct.admin verify` once the rebuilt services have caught up
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.problems and self.verify_status == 0


async def stored_counts(fleet: Fleet) -> dict[str, Counter]:
    """kind -> Counter of the naming id over the publisher's event store."""
    found: dict[str, Counter] = {}
    for kind, (service, event_type, key) in STORED.items():
        conn = await asyncpg.connect(fleet.database(service, direct=True))
        try:
            rows = await conn.fetch("SELECT envelope->'payload'->>$2 AS id FROM events WHERE event_type = $1",
                                    event_type, key)
        finally:
            await conn.close()
        found[kind] = Counter(r["id"] for r in rows)
    return found


async def verify(fleet: Fleet, timeout: float = 120.0) -> tuple[int, Counter]:
    """`python -m ttct.admin verify --json`, again while it says something is still in flight (status 3)."""
    deadline = time.monotonic() + timeout
    while True:
        done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "ttct.admin", "verify", "--json"],
                                       env=fleet.verify_env(), capture_output=True, text=True, timeout=120)
        try:
            report = json.loads(done.stdout)
        except json.JSONDecodeError:
            return done.returncode, Counter({f"verify failed: {done.stderr.strip()[-300:]}": 1})
        findings = Counter(f["kind"] for f in report["findings"])
        if report["status"] != 3 or time.monotonic() > deadline:
            return report["status"], findings
        await asyncio.sleep(2)


async def dead_letters(fleet: Fleet, services: Sequence[str] = READERS) -> int:
    """Dead letters in the reading services' databases (a rebuild clears them: count them before)."""
    found = 0
    for service in services:
        conn = await asyncpg.connect(fleet.database(service, direct=True))
        try:
            found += await conn.fetchval("SELECT count(*) FROM dead_letters")
        finally:
            await conn.close()
    return found


async def rebuild_matches(fleet: Fleet, services: Sequence[str] = READERS, timeout: float = 120.0) -> Rebuilt:
    """Rebuild each service's projections (`ttct.admin <service> rebuild`, with the release it runs) and compare
    them with what they held before (`python -m ttct_dev.faults.rebuilt`); then verify again: the rebuilt
    checkpoints must agree with the streams."""
    result = Rebuilt()

    def rebuilt(service: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ttct_dev.faults.rebuilt", service], env=fleet.admin_env(service),
                              capture_output=True, text=True, timeout=timeout)

    # side by side: each is its own database, and most of each is building its service's app
    runs = await asyncio.gather(*(asyncio.to_thread(rebuilt, service) for service in services))
    for service, done in zip(services, runs, strict=True):
        try:
            said = json.loads(done.stdout.strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError):
            result.problems.append(f"{service}: the rebuild failed: {done.stderr.strip()[-300:]}")
            continue
        result.rows[service] = sum(said["tables"].values())
        result.differences += [f"{service}: {d['text']}" for d in said["differences"]]
        if any(f" {outcome}" in said["rebuild"] for outcome in ("dead-lettered", "parked", "held", "waiting")):
            result.problems.append(f"{service}: {said['rebuild']}")
    result.verify_status, findings = await verify(fleet, timeout)
    if result.verify_status != 0:
        result.problems.append(f"verify after the rebuilds: exit status {result.verify_status}: {dict(findings)}")
    return result


async def until_delivered(receiver: WebhookReceiver, ledger: Ledger, timeout: float) -> bool:
    """Until every accepted score's notice has reached its organisation's receiver."""
    expected = {c.ids["learner_id"] for c in ledger.accepted("score")}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = {r.payload["data"]["learner_id"] for code, _ in ORGANISATIONS for r in receiver.unique(code, RESULT)}
        if expected <= got:
            return True
        await asyncio.sleep(0.5)
    return False


def result_notices(receiver: WebhookReceiver) -> dict[str, set[str]]:
    """learner -> the webhook-ids under which their result notice arrived (one, however often it was retried)."""
    by_learner: dict[str, set[str]] = {}
    for code, _ in ORGANISATIONS:
        for r in receiver.received[code]:
            if r.verified and r.payload.get("type") == RESULT:
                by_learner.setdefault(r.payload["data"]["learner_id"], set()).add(r.webhook_id)
    return by_learner


def twice(notices: dict[str, set[str]]) -> int:
    """How many notices arrived again under another webhook-id (`result_notices`): each a notice sent twice."""
    return sum(len(ids) - 1 for ids in notices.values())


async def audit(fleet: Fleet, ledger: Ledger, receiver: WebhookReceiver, *, settle: float = 120.0) -> Audit:
    result = Audit()
    result.verify_status, result.verify_findings = await verify(fleet, settle)
    await until_delivered(receiver, ledger, settle)
    await asyncio.sleep(1.0)  # a second delivery of a notice would arrive now
    stored = await stored_counts(fleet)
    for kind, (_, event_type, key) in STORED.items():
        accepted = ledger.accepted(kind)
        for c in accepted:
            n = stored[kind][c.ids.get(key)]
            if n == 0:
                result.lost += 1
                result.problems.append(f"{kind} {c.ids} answered {c.status} but no {event_type} in the store")
            elif n > 1:
                result.doubled += n - 1
                result.problems.append(f"{kind} {c.ids}: {n} × {event_type}")
        # a command stored twice under two ids (an enrolment's retry making a second learner): more events than
        # commands sent, answered or not
        sent = sum(1 for c in ledger.commands if c.kind == kind)
        extra = sum(stored[kind].values()) - sent
        if extra > 0 and kind not in ("attendance",):
            result.doubled += extra
            result.problems.append(f"{extra} more {event_type} in the store than {kind} commands sent")
    expected = {c.ids["learner_id"] for c in ledger.accepted("score")}
    by_learner = result_notices(receiver)
    for code, _ in ORGANISATIONS:
        result.deliveries += sum(1 for r in receiver.received[code] if r.verified and r.payload.get("type") == RESULT)
        if any(not r.verified for r in receiver.received[code]):
            result.problems.append(f"{code}: a delivery failed its signature check")
    result.notices_expected, result.notices_received = len(expected), len(expected & by_learner.keys())
    for learner in expected - by_learner.keys():
        result.lost += 1
        result.problems.append(f"the result notice of learner {learner} never arrived")
    result.doubled += twice(by_learner)
    for learner, ids in by_learner.items():
        if len(ids) > 1:
            result.problems.append(f"learner {learner}'s result notice arrived under {len(ids)} webhook-ids")
    if result.verify_status != 0:
        result.problems.append(f"verify exit status {result.verify_status}: {dict(result.verify_findings)}")
    return result
