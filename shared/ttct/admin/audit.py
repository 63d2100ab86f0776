"""`python -m ttct.admin verify [<service> …] [--json]`: is every event where it should be, once?

Per source stream (SCHEDULING, ENROLMENT, ASSESSMENT) and province, it compares the events of the publishing
service's event store, the messages on the JetStream stream, and each reading service's consumer checkpoints and
dead letters; and, in notification's database, whether every notice reached each endpoint of its organisation, once.

Each service's database is named by `<SERVICE>_DATABASE_URL` (or `--database service=URL`); a service verified
alone may use plain `DATABASE_URL`. NATS_URL must be a user that may read the streams (the `admin` user), and
PROVINCE_CODE the province. Without a service's database, what only it holds is not compared (the table says so).

Exit status: 0 all in place, 1 a discrepancy (missing, applied or delivered twice, dead-lettered, not delivered),
3 only things still in flight (an outbox not yet published, a consumer with pending messages): run it again.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg
import nats
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from ttct.eventsourcing.topology import PUBLISHES, READS, durable_name
from ttct.operations.settings import nats_servers

SERVICES = ("scheduling", "enrolment", "assessment", "notification")

# kinds of finding; those in IN_FLIGHT only mean "not yet"
IN_FLIGHT = {"not-yet-published", "not-yet-applied", "delivery-pending"}
NOTES = {"twice-on-jetstream"}  # harmless (consumers skip it): after a republish beyond the duplicate window


@dataclass
class Finding:
    kind: str
    where: str  # the stream, or the consumer, or the endpoint
    event_id: str | None = None
    stream_id: str | None = None
    stream_version: int | None = None
    detail: str = ""


@dataclass
class StreamLine:
    stream: str
    store: int | None  # events in the publisher's store (None: its database not given)
    outbox: int | None
    jetstream: int
    consumers: dict[str, dict[str, int | None]] = field(default_factory=dict)


@dataclass
class Report:
    province: str
    streams: list[StreamLine] = field(default_factory=list)
    notices: dict[str, int] | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def discrepancies(self) -> list[Finding]:
        return [f for f in self.findings if f.kind not in IN_FLIGHT | NOTES]

    @property
    def exit_status(self) -> int:
        if self.discrepancies:
            return 1
        return 3 if any(f.kind in IN_FLIGHT for f in self.findings) else 0

    def as_json(self) -> dict[str, Any]:
        return {"province": self.province, "status": self.exit_status, "streams": [asdict(s) for s in self.streams],
                "notices": self.notices, "findings": [asdict(f) for f in self.findings]}

    def table(self) -> str:
        lines = [f"province {self.province}"]
        for s in self.streams:
            known = lambda n: "-" if n is None else str(n)  # noqa: E731 - a column's "not compared"
            lines.append(f"{s.stream:<11} store {known(s.store):>6}  outbox {known(s.outbox):>4}  "
                         f"jetstream {s.jetstream:>6}")
            for consumer, counts in s.consumers.items():
                lines.append(f"  {consumer:<30} applied {known(counts['applied']):>6}  dead letters "
                             f"{known(counts['dead_letters']):>3}  missing {known(counts['missing']):>3}  "
                             f"pending {known(counts['pending']):>4}")
        if self.notices is not None:
            lines.append("notices    " + "  ".join(f"{k} {v}" for k, v in self.notices.items()))
        by_kind = Counter(f.kind for f in self.findings)
        lines.append("findings   " + ("  ".join(f"{k} {n}" for k, n in sorted(by_kind.items())) or "none"))
        for f in self.findings[:50]:
            what = f" {f.stream_id} v{f.stream_version}" if f.stream_id else ""
            lines.append(f"  {f.kind:<26} {f.where}{what} {f.event_id or ''} {f.detail}".rstrip())
        if len(self.findings) > 50:
            lines.append(f"  … {len(self.findings) - 50} more (--json lists them all)")
        return "\n".join(lines)


@dataclass(frozen=True)
class Stored:
    event_id: str
    stream_id: str
    stream_version: int


async def _connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await conn.execute("SELECT set_config('ttct.scope', 'all', false)")  # every centre's rows (row security)
    return conn


async def _on_jetstream(js: JetStreamContext, context: str, province: str) -> list[Stored]:
    """Every message of the province on the context's stream, in stream order, read by an ephemeral consumer."""
    sub = await js.pull_subscribe(
        f"ttct.{province}.*.{context}.>", stream=PUBLISHES[context],
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE, inactive_threshold=30))
    seen: list[Stored] = []
    try:
        while (await sub.consumer_info()).num_pending:
            with contextlib.suppress(TimeoutError, nats.errors.TimeoutError):
                for msg in await sub.fetch(500, timeout=2):
                    envelope = json.loads(msg.data)
                    seen.append(Stored(str(envelope["event_id"]), envelope["stream_id"],
                                       int(envelope["stream_version"])))
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    return seen


async def _in_store(conn: asyncpg.Connection, province: str) -> tuple[list[Stored], set[str]]:
    rows = await conn.fetch("SELECT e.event_id::text, e.stream_id, e.stream_version, o.position IS NOT NULL AS queued"
                            " FROM events e LEFT JOIN outbox o ON o.position = e.position"
                            " WHERE e.envelope->>'province' = $1 ORDER BY e.position", province)
    return ([Stored(r["event_id"], r["stream_id"], r["stream_version"]) for r in rows],
            {r["event_id"] for r in rows if r["queued"]})


async def _compare_consumer(conn: asyncpg.Connection, js: JetStreamContext, reader: str, context: str,
                            province: str, reference: list[Stored], report: Report) -> dict[str, int | None]:
    consumer = durable_name(reader, province)
    where = f"{reader} ({consumer})"
    checkpoints = {r["stream_id"]: (r["stream_version"], str(r["event_id"])) for r in await conn.fetch(
        "SELECT stream_id, stream_version, event_id FROM consumer_checkpoints WHERE consumer = $1"
        " AND split_part(stream_id, ':', 1) = $2", consumer, context)}
    dead = Counter(str(r["event_id"]) for r in await conn.fetch(
        "SELECT event_id FROM dead_letters WHERE consumer = $1 AND event_id IS NOT NULL", consumer))
    pending = 0
    with contextlib.suppress(Exception):
        info = await js.consumer_info(PUBLISHES[context], consumer)
        pending = info.num_pending + info.num_ack_pending
    by_version = {(e.stream_id, e.stream_version): e for e in reference}
    last = defaultdict(int)
    for e in reference:
        last[e.stream_id] = max(last[e.stream_id], e.stream_version)
    applied = missing = 0
    for e in reference:
        done, _ = checkpoints.get(e.stream_id, (0, None))
        if dead[e.event_id] > 1:
            report.findings.append(Finding("dead-lettered-twice", where, e.event_id, e.stream_id, e.stream_version,
                                           f"{dead[e.event_id]} dead letters"))
        if e.stream_version <= done and dead[e.event_id]:
            report.findings.append(Finding("dead-lettered", where, e.event_id, e.stream_id, e.stream_version,
                                           "not applied: replay it (python -m ttct.admin <service> replay <id>)"))
        elif e.stream_version <= done:
            applied += 1
        else:
            missing += 1
            kind = "not-yet-applied" if pending else "not-applied"
            report.findings.append(Finding(kind, where, e.event_id, e.stream_id, e.stream_version,
                                           f"its checkpoint is at v{done}"))
    for stream_id, (version, event_id) in checkpoints.items():
        known = by_version.get((stream_id, version))
        if version > last.get(stream_id, 0):
            report.findings.append(Finding("applied-but-not-stored", where, event_id, stream_id, version,
                                           f"applied up to v{version}, the stream has v{last.get(stream_id, 0)}"))
        elif known is not None and known.event_id != event_id:
            report.findings.append(Finding("applied-another-event", where, event_id, stream_id, version,
                                           f"the store's v{version} is {known.event_id}"))
    return {"applied": applied, "dead_letters": sum(dead.values()), "missing": missing, "pending": pending}


async def _compare_notices(conn: asyncpg.Connection, report: Report) -> None:
    counts = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM notices) AS notices,"
        " (SELECT count(*) FROM deliveries WHERE status IN ('delivered', 'digested')) AS delivered,"
        " (SELECT count(*) FROM deliveries WHERE status IN ('pending', 'held')) AS pending,"
        " (SELECT count(*) FROM deliveries WHERE status = 'failed') AS failed")
    report.notices = dict(counts)
    for r in await conn.fetch(
            "SELECT event_id::text, notice_type, organisation_code, recipient, count(*) AS n FROM notices"
            " GROUP BY event_id, notice_type, organisation_code, recipient, learner_id HAVING count(*) > 1"):
        report.findings.append(Finding("notice-twice", r["organisation_code"], r["event_id"],
                                       detail=f"{r['n']} {r['notice_type']} notices for {r['recipient']}"))
    for table, attempts, target in (("deliveries", "delivery_attempts", "d.endpoint_id::text"),
                                    ("email_deliveries", "email_attempts", "d.address")):
        for r in await conn.fetch(
                f"SELECT d.notice_id::text, n.event_id::text, {target}"
                f" AS target, count(*) AS n FROM {table} d JOIN notices n USING (notice_id)"
                f" JOIN {attempts} a ON a.delivery_id = d.delivery_id AND a.outcome = 'delivered'"
                " GROUP BY d.notice_id, n.event_id, target HAVING count(*) > 1"):
            report.findings.append(Finding("delivered-twice", r["target"], r["event_id"],
                                           detail=f"notice {r['notice_id']} delivered {r['n']} times"))
        for r in await conn.fetch(
                f"SELECT d.notice_id::text, n.event_id::text, {target}"
                f" AS target, d.status, d.last_error FROM {table} d JOIN notices n USING (notice_id)"
                " WHERE d.status IN ('failed', 'pending', 'held')"):
            kind = "not-delivered" if r["status"] == "failed" else "delivery-pending"
            report.findings.append(Finding(kind, r["target"], r["event_id"],
                                           detail=f"notice {r['notice_id']}: {r['status']} {r['last_error'] or ''}"))
    # an endpoint that was enabled when the notice was made, and has no delivery of it at all
    for r in await conn.fetch(
            "SELECT n.notice_id::text, n.event_id::text, w.endpoint_id::text FROM notices n"
            " JOIN webhook_endpoints w ON w.organisation_code = n.organisation_code AND w.created_at <= n.created_at"
            " AND (w.enabled OR w.disabled_at > n.created_at)"
            " WHERE n.recipient = 'organisation' AND NOT EXISTS (SELECT 1 FROM deliveries d"
            " WHERE d.notice_id = n.notice_id AND d.endpoint_id = w.endpoint_id)"):
        report.findings.append(Finding("not-delivered", r["endpoint_id"], r["event_id"],
                                       detail=f"notice {r['notice_id']}: no delivery to this endpoint"))


async def verify(databases: dict[str, str], nats_url: str, province: str,
                 services: Sequence[str] = SERVICES) -> Report:
    """Compare what `services` hold (those of them with a database in `databases`) with the streams."""
    report = Report(province)
    given = {s: databases[s] for s in services if databases.get(s)}
    conns = {s: await _connect(url) for s, url in given.items()}
    nc = await nats.connect(servers=nats_servers(nats_url))
    try:
        js = nc.jetstream()
        for context, stream in PUBLISHES.items():
            readers = [r for r in READS if context in READS[r] and r in conns]
            if context not in conns and not readers:
                continue
            on_stream = await _on_jetstream(js, context, province)
            ids_on_stream = Counter(e.event_id for e in on_stream)
            for event_id, n in ids_on_stream.items():
                if n > 1:
                    report.findings.append(Finding("twice-on-jetstream", stream, event_id, detail=f"{n} copies"))
            line = StreamLine(stream, None, None, len(ids_on_stream))
            reference = list({e.event_id: e for e in on_stream}.values())
            if context in conns:
                stored, queued = await _in_store(conns[context], province)
                line.store, line.outbox = len(stored), len(queued)
                stored_ids = {e.event_id for e in stored}
                for e in stored:
                    if e.event_id not in ids_on_stream:
                        kind = "not-yet-published" if e.event_id in queued else "missing-on-jetstream"
                        report.findings.append(Finding(kind, stream, e.event_id, e.stream_id, e.stream_version,
                                                       "republish it: python -m ttct.admin "
                                                       f"{context} republish --stream {e.stream_id}"
                                                       if kind == "missing-on-jetstream" else "in the outbox"))
                for e in reference:
                    if e.event_id not in stored_ids:
                        report.findings.append(Finding("not-in-event-store", stream, e.event_id, e.stream_id,
                                                       e.stream_version, "on JetStream only"))
                reference = stored
            for reader in readers:
                line.consumers[reader] = await _compare_consumer(conns[reader], js, reader, context, province,
                                                                 reference, report)
            report.streams.append(line)
        if "notification" in conns:
            await _compare_notices(conns["notification"], report)
    finally:
        await nc.close()
        for conn in conns.values():
            await conn.close()
    return report


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ttct.admin verify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("services", nargs="*", choices=[[], *SERVICES], metavar="service",
                        help=f"the services to verify (default: every one: {', '.join(SERVICES)})")
    parser.add_argument("--database", action="append", default=[], metavar="SERVICE=URL",
                        help="a service's database (default: <SERVICE>_DATABASE_URL)")
    parser.add_argument("--nats-url", default=os.getenv("NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument("--province", default=os.getenv("PROVINCE_CODE"))
    parser.add_argument("--json", action="store_true", help="everything found, as one JSON document")
    args = parser.parse_args(argv)
    if not args.province:
        parser.error("PROVINCE_CODE (or --province) is required")
    services = args.services or list(SERVICES)
    databases = {s: os.getenv(f"{s.upper()}_DATABASE_URL", "") for s in SERVICES}
    if len(services) == 1 and not databases[services[0]]:
        databases[services[0]] = os.getenv("DATABASE_URL", "")
    for given in args.database:
        service, _, url = given.partition("=")
        if service not in SERVICES or not url:
            parser.error(f"--database {given}: give SERVICE=postgresql://…, SERVICE one of {', '.join(SERVICES)}")
        databases[service] = url
    if not any(databases.get(s) for s in services):
        parser.error("no database given: set <SERVICE>_DATABASE_URL or --database SERVICE=URL")
    report = asyncio.run(verify(databases, args.nats_url, args.province, services))
    print(json.dumps(report.as_json(), ensure_ascii=False, indent=2) if args.json else report.table())
    return report.exit_status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
