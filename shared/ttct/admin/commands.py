"""Operator commands, run with a service's own environment (DATABASE_URL, NATS_URL, PROVINCE_CODE, …):

    python -m ttct.admin <service> dead-letters            # list what its consumers gave up on
    python -m ttct.admin <service> replay <id>             # apply a parked dead letter and what it held back
    python -m ttct.admin <service> skip <id>               # give a parked dead letter up, apply what it held
    python -m ttct.admin <service> rebuild                 # compute its projections again from its streams
    python -m ttct.admin <service> access-report --since 2026-11-20T00:00+07:00 [--until …] [--caller SUBJECT]
                                                           # whose personal data were read or changed, by whom
                                                           # (a suspected breach: docs/operations.md)
    python -m ttct.admin <service> republish [--from-position N] [--to-position M] [--stream STREAM_ID …]
                                                           # publish stored events again (a lost JetStream stream)
    python -m ttct.admin verify [<service> …] [--json]     # every event and notice where it should be, once

A dead letter parks its stream: the stream's later events are kept behind it as held dead letters
(ttct.eventsourcing.consumer). Replaying applies the parked event with the handler the service uses today (batched
or not), then the held ones in version order, in one transaction with the checkpoint and the removal of the dead
letters: each exactly once, in order; a replay whose first event fails again changes nothing. Skipping gives the
parked event up (it stays in its stream and event store) and applies the held ones the same way.

A rebuild is one transaction: it empties the projections, dead letters and checkpoints, reads the streams again
from their start and applies them, and commits. Readers of the projections wait for it (they never see them half
built) and the live consumers carry on afterwards from the rebuilt checkpoints, the events they then receive again
being duplicates.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import nats

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from ttct.eventsourcing.consumer import ProjectionRunner, Received, is_transient, read_message, replay_parked
from ttct.eventsourcing.nats_permissions import inbox_prefix
from ttct.eventsourcing.topology import PUBLISHES, durable_name, filter_subject
from ttct.operations.collector import pace_collector
from ttct.operations.runtime import Runtime
from ttct.operations.settings import ServiceSettings, load_settings
from ttct.privacy import tenancy


def runtime_of(service: str) -> Runtime:
    """The service's runtime as its composition root builds it, without starting anything."""
    settings_module = importlib.import_module(f"{service}.settings")
    settings_class = next(v for k, v in vars(settings_module).items()  # the service's own, not one it derives from
                          if isinstance(v, type) and issubclass(v, ServiceSettings)
                          and v.__module__ == settings_module.__name__)
    app = importlib.import_module(f"{service}.bootstrap").create_app(load_settings(settings_class))
    return app.state.runtime


async def dead_letters(runtime: Runtime) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(runtime.settings.database_url)
    try:
        await tenancy.every_row(conn)
        rows = await conn.fetch("SELECT id, consumer, subject, event_id, stream_id, stream_version, deliveries, error,"
                                " failed_at FROM dead_letters ORDER BY id")
        return [dict(r) for r in rows]
    finally:
        await conn.close()


def _handlers_for(runtime: Runtime):
    def handlers_for(stream_id: str):
        return runtime.projections.get(stream_id.split(":", 1)[0], {})

    return handlers_for


async def _connect_vault(runtime: Runtime) -> None:
    vault = runtime.vault  # handlers that open learners' personal data
    if vault is not None and (vault.pool is None or vault.pool.is_closing()):
        await runtime.vault.connect(runtime.settings.key_vault_url or runtime.settings.database_url)


async def replay(runtime: Runtime, letter_id: int, *, skip: bool = False) -> str:
    await _connect_vault(runtime)
    conn = await asyncpg.connect(runtime.settings.database_url)
    try:
        await tenancy.every_row(conn)
        async with conn.transaction():
            return await replay_parked(conn, letter_id, _handlers_for(runtime), skip=skip)
    finally:
        await conn.close()


async def skip(runtime: Runtime, letter_id: int) -> str:
    return await replay(runtime, letter_id, skip=True)


REBUILD_BATCH = 500
REBUILD_IDLE = 30.0


def rebuild_consumer(durable: str) -> str:
    """The rebuild's own consumer, named so that the service's NATS user may create exactly it."""
    return f"{durable}-rebuild"


def _reset(table_or_statement: str) -> str:
    # a projection table is emptied; a statement (assessment keeps its own decisions in a fact table) runs as is
    return table_or_statement if " " in table_or_statement else f'TRUNCATE "{table_or_statement}"'


class LeftoverConsumer(RuntimeError):
    pass


async def _reapply(conn: asyncpg.Connection, js, runner: ProjectionRunner, stream: str, subject: str,
                   prepare) -> dict[str, int]:
    """Read `stream` (filtered to `subject`) from its start and apply it through `runner` on `conn`, through a
    consumer of the rebuild's own (`rebuild_consumer`: the service's NATS user may create, pull and delete it)."""
    name = rebuild_consumer(runner.consumer)
    with contextlib.suppress(NotFoundError):  # left by a rebuild that crashed less than REBUILD_IDLE ago
        await js.delete_consumer(stream, name)
    info = await js.add_consumer(stream, ConsumerConfig(
        name=name, ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, mem_storage=True,
        inactive_threshold=REBUILD_IDLE, filter_subject=subject))
    if info.delivered.consumer_seq:
        raise LeftoverConsumer(f"a previous rebuild's consumer {name} on {stream} is still there; the server deletes "
                               f"it after {REBUILD_IDLE:.0f} s idle: run the rebuild again then")
    counts: dict[str, int] = {}
    waiting: list[Received] = []
    sub = await js.pull_subscribe_bind(consumer=name, stream=stream)
    try:
        pending = info.num_pending
        while pending:
            msgs = await sub.fetch(REBUILD_BATCH, timeout=10.0)
            pending = msgs[-1].metadata.num_pending
            batch = []
            for msg in msgs:
                position, envelope, event, error = read_message(msg.data)
                if position is None:
                    await runner.apply_unplaced(conn, msg, error)
                    counts["dead-lettered"] = counts.get("dead-lettered", 0) + 1
                else:
                    batch.append(Received(msg, position, envelope, event, error))
            batch = waiting + batch  # what waited for a predecessor that has come since
            if prepare is not None:
                await prepare([r.event for r in batch if r.event is not None])
            waiting = []
            for r, outcome in zip(batch, await _apply_each(conn, runner, batch), strict=True):
                if outcome == "wait":
                    waiting.append(r)
                else:
                    counts[outcome] = counts.get(outcome, 0) + 1
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
        with contextlib.suppress(Exception):
            await js.delete_consumer(stream, name)
    if waiting:  # their predecessors are not in the stream: the live consumer keeps waiting for them, as before
        counts["waiting"] = len(waiting)
    return counts


async def _apply_each(conn: asyncpg.Connection, runner: ProjectionRunner, batch: list[Received]) -> list[str]:
    """The batch at once in a savepoint; failing that, event by event, a failing one parked at once."""
    try:
        async with conn.transaction():
            return await runner.apply_in(conn, batch, lock=False)
    except Exception as exc:
        if is_transient(exc):
            raise
    outcomes = []
    for r in batch:
        try:
            async with conn.transaction():
                [outcome] = await runner.apply_in(conn, [r], lock=False)
        except Exception as exc:
            if is_transient(exc):
                raise
            outcome = await runner.park_in(conn, r, exc, lock=False)
        outcomes.append(outcome)
    return outcomes


async def rebuild(runtime: Runtime) -> str:
    """Compute the projections again from the streams, in one transaction (see the module's docstring)."""
    s = runtime.settings
    durable = durable_name(s.service_name, s.province_code)
    await _connect_vault(runtime)
    prepare = runtime.keyring.prefetch if runtime.keyring is not None else None
    nc = await nats.connect(servers=s.nats_servers, inbox_prefix=inbox_prefix(s.service_name).encode())
    conn = await asyncpg.connect(s.database_url)
    counts: dict[str, int] = {}
    try:
        await tenancy.every_row(conn)  # the owner is subject to FORCE ROW LEVEL SECURITY too
        js = nc.jetstream()
        async with conn.transaction():
            # First: a live consumer's batch either finishes before, or reads the checkpoints after, the rebuild
            await conn.execute("LOCK TABLE consumer_checkpoints IN ACCESS EXCLUSIVE MODE")
            for table in runtime.projection_tables:
                await conn.execute(_reset(table))
            for table in ("consumer_checkpoints", "consumer_failures", "dead_letters"):
                await conn.execute(f"DELETE FROM {table} WHERE consumer = $1", durable)
            for context, handlers in runtime.projections.items():
                runner = ProjectionRunner(None, durable, handlers)  # type: ignore[arg-type]  # on `conn` only
                done = await _reapply(conn, js, runner, PUBLISHES[context],
                                      filter_subject(context, s.province_code), prepare)
                for outcome, n in done.items():
                    counts[outcome] = counts.get(outcome, 0) + n
    finally:
        await conn.close()
        await nc.close()
    tables = ", ".join(t for t in runtime.projection_tables if " " not in t) or "no tables"
    return (f"rebuilt {tables} from the streams: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
            if counts else f"rebuilt {tables}: the streams are empty")


async def access_report(runtime: Runtime, since: datetime, until: datetime | None = None,
                        caller: str | None = None) -> list[dict[str, Any]]:
    """One line per learner whose personal data this service disclosed or changed in the window (optionally to
    one caller: a leaked credential's subject), with when, how often, to whom and through which routes: the list a
    personal-data breach notice needs (Decree 13/2023/ND-CP, Law 91/2025/QH15: 72 hours)."""
    conn = await asyncpg.connect(runtime.settings.database_url)
    try:
        await tenancy.every_row(conn)
        rows = await conn.fetch(
            "SELECT learner_id, array_agg(DISTINCT centre) FILTER (WHERE centre IS NOT NULL) AS centres,"
            " min(at) AS first_at, max(at) AS last_at, count(*) AS accesses,"
            " array_agg(DISTINCT caller) AS callers, array_agg(DISTINCT action) AS actions,"
            " array_agg(DISTINCT route) AS routes"
            " FROM personal_data_access, unnest(learner_ids) AS learner_id"
            " WHERE at >= $1 AND ($2::timestamptz IS NULL OR at < $2) AND ($3::text IS NULL OR caller = $3)"
            " GROUP BY learner_id ORDER BY min(at), learner_id", since, until, caller)
        return [{**dict(r), "service": runtime.settings.service_name} for r in rows]
    finally:
        await conn.close()


async def republish(runtime: Runtime, *, first: int | None = None, last: int | None = None,
                    streams: Sequence[str] = ()) -> str:
    """Put stored events back in the outbox (positions `first`..`last`, or these event streams, or all), so the
    service's relay publishes them again: what refills a JetStream stream whose volume was lost. JetStream drops
    those it still holds as duplicates (Nats-Msg-Id is the event id) and every consumer skips what its
    checkpoints say it applied, so publishing too much is harmless."""
    conn = await asyncpg.connect(runtime.settings.database_url)
    try:
        await tenancy.every_row(conn)
        status = await conn.execute(
            "INSERT INTO outbox (position) SELECT position FROM events"
            " WHERE ($1::bigint IS NULL OR position >= $1) AND ($2::bigint IS NULL OR position <= $2)"
            " AND (cardinality($3::text[]) = 0 OR stream_id = ANY($3::text[]))"
            " ORDER BY position ON CONFLICT (position) DO NOTHING", first, last, list(streams))
    finally:
        await conn.close()
    return (f"queued {int(status.split()[-1])} events for publishing again; the running service's relay "
            "publishes them (watch ttct_outbox_pending)")


def _recovery_command(argv: Sequence[str]) -> bool:
    """`republish` and `verify`, with arguments of their own; False when `argv` is another command."""
    if argv[:1] == ["verify"] or argv[1:2] == ["verify"]:
        from ttct.admin import audit

        raise SystemExit(audit.main([a for a in argv if a != "verify"]))
    if argv[1:2] != ["republish"]:
        return False
    parser = argparse.ArgumentParser(prog=f"python -m ttct.admin {argv[0]} republish",
                                     description=republish.__doc__)
    parser.add_argument("--from-position", type=int, help="the first global position (events.position)")
    parser.add_argument("--to-position", type=int, help="the last global position")
    parser.add_argument("--stream", action="append", default=[], help="an event stream's id; repeat for more")
    args = parser.parse_args(argv[2:])
    print(asyncio.run(republish(runtime_of(argv[0]), first=args.from_position, last=args.to_position,
                                streams=args.stream)))
    return True


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-11-20T08:00+07:00")
    return moment


def main() -> None:
    if _recovery_command(sys.argv[1:]):
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("service")
    parser.add_argument("command", choices=["dead-letters", "replay", "skip", "rebuild", "access-report"])
    parser.add_argument("id", nargs="?", type=int)
    parser.add_argument("--since", type=_moment, help="access-report: from (ISO 8601 with a time zone)")
    parser.add_argument("--until", type=_moment, help="access-report: until (default: now)")
    parser.add_argument("--caller", help="access-report: only this caller (a token's subject)")
    args = parser.parse_args()
    runtime = runtime_of(args.service)
    if args.command == "access-report":
        if args.since is None:
            parser.error("access-report needs --since")
        for line in asyncio.run(access_report(runtime, args.since, args.until, args.caller)):
            print(json.dumps(line, default=str, ensure_ascii=False))
    elif args.command == "dead-letters":
        for letter in asyncio.run(dead_letters(runtime)):
            print(json.dumps(letter, default=str, ensure_ascii=False))
    elif args.command in ("replay", "skip"):
        if args.id is None:
            parser.error(f"{args.command} needs the dead letter's id")
        print(asyncio.run(replay(runtime, args.id, skip=args.command == "skip")))
    else:
        pace_collector()  # as the service consumes: see ttct.operations.collector
        print(asyncio.run(rebuild(runtime)))


if __name__ == "__main__":
    main()
