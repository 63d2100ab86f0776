"""Operator commands, run with a service's own environment (DATABASE_URL, NATS_URL, PROVINCE_CODE, …):

    python -m ttct.admin <service> dead-letters            # list what its consumers gave up on
    python -m ttct.admin <service> replay <id>             # apply one dead letter again, after a fix
    python -m ttct.admin <service> rebuild                 # empty its projections, replay its streams
    python -m ttct.admin <service> access-report --since 2026-11-20T00:00+07:00 [--until …] [--caller SUBJECT]
                                                           # whose personal data were read or changed, by whom
                                                           # (a suspected breach: docs/operations.md)
    python -m ttct.admin <service> republish [--from-position N] [--to-position M] [--stream STREAM_ID …]
                                                           # publish stored events again (a lost JetStream stream)
    python -m ttct.admin verify [<service> …] [--json]     # every event and notice where it should be, once

Replaying applies the stored event with the handler the service uses today, in one transaction that also
removes the dead letter, so a replay that fails again changes nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import nats

from ttct.contracts import Envelope, read_event
from ttct.eventsourcing.nats_permissions import inbox_prefix
from ttct.eventsourcing.topology import PUBLISHES, consumer_config
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
        rows = await conn.fetch("SELECT id, consumer, subject, event_id, deliveries, error, failed_at "
                                "FROM dead_letters ORDER BY id")
        return [dict(r) for r in rows]
    finally:
        await conn.close()


async def replay(runtime: Runtime, letter_id: int) -> str:
    handlers = {t: h for per_context in runtime.projections.values() for t, h in per_context.items()}
    if runtime.vault is not None and runtime.vault.pool is None:  # handlers that open learners' personal data
        await runtime.vault.connect(runtime.settings.key_vault_url or runtime.settings.database_url)
    conn = await asyncpg.connect(runtime.settings.database_url)
    try:
        await tenancy.every_row(conn)
        async with conn.transaction():
            row = await conn.fetchrow("SELECT body FROM dead_letters WHERE id = $1 FOR UPDATE", letter_id)
            if row is None:
                return f"no dead letter {letter_id}"
            envelope = Envelope.model_validate_json(row["body"])
            event = read_event(envelope)
            handler = handlers.get(type(event))
            if handler is not None:
                await handler(conn, envelope, event)
            await conn.execute("DELETE FROM dead_letters WHERE id = $1", letter_id)
        return f"replayed {envelope.event_type} {envelope.event_id}"
    finally:
        await conn.close()


async def rebuild(runtime: Runtime) -> str:
    """Empty the projections and have JetStream deliver the streams again from the start."""
    s = runtime.settings
    conn = await asyncpg.connect(s.database_url)
    try:
        await tenancy.every_row(conn)  # the owner is subject to FORCE ROW LEVEL SECURITY too
        async with conn.transaction():
            for table in runtime.projection_tables:
                await conn.execute(f'TRUNCATE "{table}"')
            await conn.execute("DELETE FROM consumer_checkpoints")
    finally:
        await conn.close()
    nc = await nats.connect(servers=s.nats_servers, inbox_prefix=inbox_prefix(s.service_name).encode())
    try:
        js = nc.jetstream()
        for context in runtime.projections:
            config = consumer_config(s.service_name, context, s.province_code, ack_wait=s.consumer_ack_wait)
            await js.delete_consumer(PUBLISHES[context], config.durable_name)
            await js.add_consumer(PUBLISHES[context], config)
    finally:
        await nc.close()
    return f"emptied {', '.join(runtime.projection_tables) or 'no tables'}; streams replay from the start"


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
    parser.add_argument("command", choices=["dead-letters", "replay", "rebuild", "access-report"])
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
    elif args.command == "replay":
        if args.id is None:
            parser.error("replay needs the dead letter's id")
        print(asyncio.run(replay(runtime, args.id)))
    else:
        print(asyncio.run(rebuild(runtime)))


if __name__ == "__main__":
    main()
