"""Operator commands, run with a service's own environment (DATABASE_URL, NATS_URL, PROVINCE_CODE, …):

    python -m ttct.admin <service> dead-letters            # list what its consumers gave up on
    python -m ttct.admin <service> replay <id>             # apply one dead letter again, after a fix
    python -m ttct.admin <service> rebuild                 # empty its projections, replay its streams

Replaying applies the stored event with the handler the service uses today, in one transaction that also
removes the dead letter, so a replay that fails again changes nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import json
from typing import Any

import asyncpg
import nats

from ttct import tenancy
from ttct.contracts import Envelope, read_event
from ttct.nats_permissions import inbox_prefix
from ttct.runtime import Runtime
from ttct.settings import ServiceSettings, load_settings
from ttct.topology import PUBLISHES, consumer_config


def runtime_of(service: str) -> Runtime:
    """The service's runtime as its composition root builds it, without starting anything."""
    settings_module = importlib.import_module(f"{service}.settings")
    settings_class = next(v for k, v in vars(settings_module).items()
                          if isinstance(v, type) and issubclass(v, ServiceSettings) and v is not ServiceSettings)
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
    nc = await nats.connect(s.nats_url, inbox_prefix=inbox_prefix(s.service_name).encode())
    try:
        js = nc.jetstream()
        for context in runtime.projections:
            config = consumer_config(s.service_name, context, s.province_code, ack_wait=s.consumer_ack_wait)
            await js.delete_consumer(PUBLISHES[context], config.durable_name)
            await js.add_consumer(PUBLISHES[context], config)
    finally:
        await nc.close()
    return f"emptied {', '.join(runtime.projection_tables) or 'no tables'}; streams replay from the start"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("service")
    parser.add_argument("command", choices=["dead-letters", "replay", "rebuild"])
    parser.add_argument("id", nargs="?", type=int)
    args = parser.parse_args()
    runtime = runtime_of(args.service)
    if args.command == "dead-letters":
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
