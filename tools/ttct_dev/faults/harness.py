"""One scenario's world: a private stack (NATS and PostgreSQL, from pip packages), the fleet of services, the
organisations' webhook receiver and the load; and the figures a scenario leaves for docs/reliability.md."""
from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from ttct_dev.faults.checks import Audit, Rebuilt, audit, dead_letters, rebuild_matches, result_notices, twice
from ttct_dev.faults.fleet import Fleet
from ttct_dev.faults.load import Load
from ttct_dev.receiver import WebhookReceiver
from ttct_dev.stack import LocalStack, StackInfo
from ttct_dev.tokens import LocalIssuer


@dataclass
class Figures:
    scenario: str
    fault: str
    seconds: float = 0.0  # of load
    offered: float = 0.0  # commands a second sent
    held: float = 0.0  # commands a second answered 2xx
    accepted: int = 0
    refused: int = 0  # answers 5xx (503 with Retry-After while the database is away), each attempt counted
    given_up: int = 0  # commands never answered 2xx within the client's budget
    answers_lost: int = 0  # the service said the work was done but its answer lost (409 idempotency-answer-lost)
    connection_errors: int = 0
    recover: float | None = None  # seconds from the fault's end until every service answered 2xx again
    settled: float | None = None  # seconds from the load's end until verify found everything in place
    lost: int = 0
    doubled: int = 0
    dead_letters: int = 0  # in the reading services once everything settled (before the rebuilds clear them)
    rebuilt_rows: int | None = None  # projection rows compared with a rebuild (None: not compared)
    rebuild_differences: int | None = None  # rows that differ from their rebuild, are missing or extra
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ok: bool = False


class World:
    """`async with World(root, name) as w:` a stack in root/name, then `await w.start_fleet(...)`."""

    def __init__(self, root: Path, name: str, *, rate: float, nats_url: str | None = None, receiver=None) -> None:
        self.dir = root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name, self.rate, self._nats_url = name, rate, nats_url
        self.issuer = LocalIssuer(self.dir)
        self.receiver = receiver or WebhookReceiver()  # or one that misbehaves (ttct_dev.faults.receivers)
        self.stack_info: StackInfo | None = None
        self.fleet: Fleet | None = None
        self.load: Load | None = None
        self._stack: LocalStack | None = None
        self.events: list[tuple[float, str]] = []  # (monotonic time, what happened), for the log
        self._born = time.monotonic()

    def mark(self, what: str) -> float:
        now = time.monotonic()
        self.events.append((now, what))
        print(f"  [{self.name} {now - self._born:6.1f} s] {what}", flush=True)
        return now

    async def __aenter__(self) -> World:
        import os

        saved = os.environ.pop("NATS_URL", None), os.environ.pop("DATABASE_URL", None)
        try:
            if self._nats_url:
                os.environ["NATS_URL"] = self._nats_url  # a cluster the scenario runs: LocalStack uses it
            self._stack = LocalStack(self.dir / "stack", durable=False)
            self.stack_info = await asyncio.to_thread(self._stack.start)
        finally:
            os.environ.pop("NATS_URL", None)
            for key, value in zip(("NATS_URL", "DATABASE_URL"), saved, strict=True):
                if value is not None:
                    os.environ[key] = value
        await self.receiver.start()
        return self

    async def start_fleet(self, *, replicas: int = 1, database_server: str | None = None,
                          env: dict[str, str] | None = None) -> Fleet:
        self.fleet = Fleet(self.stack_info, self.issuer, self.dir, replicas=replicas,
                           database_server=database_server, env=env or {})
        await self.fleet.start()
        self.mark(f"{replicas} process(es) of each service ready")
        self.load = Load({s: self.fleet.urls(s) for s in self.fleet.nodes}, self.issuer, self.receiver.url,
                         rate=self.rate)
        await self.load.prepare()
        self.receiver.secrets.update(self.load.secrets)
        return self.fleet

    async def __aexit__(self, *exc) -> None:
        if self.load:
            with contextlib.suppress(Exception):
                await self.load.stop()
            await self.load.close()
        if self.fleet:
            await asyncio.to_thread(self.fleet.stop)
        await self.receiver.stop()
        if self._stack:
            await asyncio.to_thread(self._stack.stop)

    def recovered_after(self, moment: float, services=("scheduling", "enrolment", "assessment")) -> float | None:
        """Seconds from `moment` until each of `services` had answered a command 2xx after it."""
        firsts = []
        for service in services:
            after = [a for a in self.load.ledger.attempts if a.service == service and a.at >= moment]
            times = [a.at for a in after if a.status and 200 <= a.status < 300]
            if not after:
                continue  # not commanded since (scheduling is, every CLASS_EVERY flows only)
            if not times:
                return None
            firsts.append(min(times))
        return round(max(firsts) - moment, 1) if firsts else None

    async def finish(self, figures: Figures, *, settle: float = 150.0) -> Figures:
        """Stop the load, wait until everything is in place (or `settle` s), audit, and compare the projections with
        a rebuild of them."""
        self.mark("load stopping")
        await self.load.stop()
        self.mark("load stopped; auditing")
        ledger, load = self.load.ledger, self.load
        stopped = time.monotonic()
        result: Audit = await audit(self.fleet, ledger, self.receiver, settle=settle)
        self.mark(f"audited: verify status {result.verify_status}")
        figures.settled = round(time.monotonic() - stopped, 1) if result.verify_status == 0 else None
        figures.seconds = round(load.stopped - load.started, 1)
        figures.offered = round(len(ledger.commands) / figures.seconds, 1)
        figures.accepted = sum(c.accepted for c in ledger.commands)
        figures.held = round(figures.accepted / figures.seconds, 1)
        figures.refused = sum(ledger.refused_answers().values())
        given_up = [c for c in ledger.commands if c.status is None]
        figures.given_up = len(given_up)
        figures.problems += [c.detail for c in given_up[:3]]
        figures.answers_lost = sum(1 for c in ledger.commands if "answer lost" in c.detail)
        figures.connection_errors = ledger.connection_errors()
        other = [c for c in ledger.commands
                 if c.status is not None and not c.accepted and "answer lost" not in c.detail]
        if other:
            figures.problems.append(f"{len(other)} commands refused for good, e.g. {other[0].status} {other[0].detail}")
        figures.lost, figures.doubled = result.lost, result.doubled
        figures.notes.append(f"notices {result.notices_received}/{result.notices_expected} "
                             f"({result.deliveries} deliveries)")
        figures.problems += result.problems[:20]
        figures.dead_letters = await dead_letters(self.fleet)
        rebuilt = await self.rebuild_matches()
        figures.rebuilt_rows, figures.rebuild_differences = sum(rebuilt.rows.values()), len(rebuilt.differences)
        per_service = ", ".join(f"{service} {n}" for service, n in rebuilt.rows.items())
        figures.notes.append(f"projections compared with a rebuild: {figures.rebuilt_rows} rows ({per_service}), "
                             f"{figures.rebuild_differences} differing")
        figures.problems += [f"differs from its rebuild: {d}" for d in rebuilt.differences[:20]] + rebuilt.problems
        figures.ok = (result.ok and rebuilt.ok and not other and figures.given_up == 0 and not figures.problems)
        return figures

    async def rebuild_matches(self) -> Rebuilt:
        """Each reading service's projections compared with a rebuild of them; the rebuild sends no notice again
        (notification derives the same notices, with the same ids, which it already holds)."""
        doubled = twice(result_notices(self.receiver))
        self.mark("rebuilding each reading service's projections")
        rebuilt = await rebuild_matches(self.fleet)
        await asyncio.sleep(1.0)  # a result notice the rebuild sent again would have arrived now
        again = twice(result_notices(self.receiver)) - doubled
        self.mark(f"rebuilt: {len(rebuilt.differences)} rows differ; verify status {rebuilt.verify_status}; "
                  f"{again} result notices sent again")
        if again:
            rebuilt.problems.append(f"{again} result notices arrived again, under new webhook-ids, after the rebuilds")
        return rebuilt
