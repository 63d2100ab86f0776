"""Computing the figure tables again from the record: scheduling's and enrolment's streams re-read from their start
(the streams are the record; the facts tables assessment keeps may be trimmed), and assessment's own events from
its event store.

All in one transaction that first empties the tables (TRUNCATE: an exclusive lock), so nobody sees them half-built:
figure reads, and the live path (projection.py: a consumer batch, a finalisation) wait until it commits, then the
live path applies its event; every handler is an idempotent, order-independent upsert (tables.py), so an event
applied by both counts once. Each live transaction touches one figure table only, so waiting on the rebuild never
deadlocks. A centre's year is seconds of work; a province's (~200,000 events) about a minute, during which
finalisations wait: run it when the centres are quiet.
"""
from __future__ import annotations

import contextlib

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from ttct.contracts import Envelope, read_event
from ttct.eventsourcing.topology import PUBLISHES, durable_name

from assessment.figures import tables

BATCH = 500
STREAMS_READ = ("scheduling", "enrolment")


def consumer_name(province: str) -> str:
    """The rebuild's ephemeral consumer, named (not random) so that NATS permissions can allow exactly it to
    assessment's own user (ttct.eventsourcing.nats_permissions.OWN_READERS)."""
    return f"{durable_name('assessment', province)}-figures"


async def _reread(conn: asyncpg.Connection, js: JetStreamContext, context: str, province: str) -> int:
    """Apply the context's stream, for the province and the figures' event types, from its start (an ephemeral
    consumer, deleted when done and by the server a minute after a crash); the number of events applied."""
    stream, name = PUBLISHES[context], consumer_name(province)
    with contextlib.suppress(NotFoundError):  # left by a rebuild that crashed less than a minute ago
        await js.delete_consumer(stream, name)
    await js.add_consumer(stream, ConsumerConfig(
        name=name, ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, mem_storage=True,
        inactive_threshold=60.0,
        filter_subjects=[f"ttct.{province}.*.{context}.{event_type}" for event_type in tables.EVENT_TYPES[context]]))
    applied = 0
    try:
        sub = await js.pull_subscribe_bind(consumer=name, stream=stream)
        pending = (await sub.consumer_info()).num_pending
        while pending:
            msgs = await sub.fetch(BATCH, timeout=10.0)
            for msg in msgs:
                envelope = Envelope.model_validate_json(msg.data)
                await tables.apply(conn, envelope, read_event(envelope))
            applied += len(msgs)
            pending = msgs[-1].metadata.num_pending
        await sub.unsubscribe()
    finally:
        with contextlib.suppress(Exception):
            await js.delete_consumer(stream, name)
    return applied


async def rebuild(pool: asyncpg.Pool, js: JetStreamContext, province: str) -> dict[str, int]:
    """Empty the figure tables and compute them again; the number of events applied per context."""
    done: dict[str, int] = {}
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"TRUNCATE {', '.join(tables.TABLES)}")
        for context in STREAMS_READ:
            done[context] = await _reread(conn, js, context, province)
        rows = await conn.fetch("SELECT envelope FROM events WHERE event_type = ANY($1::text[]) ORDER BY position",
                                tables.EVENT_TYPES["assessment"])
        for row in rows:
            envelope = Envelope.model_validate_json(row["envelope"])
            await tables.apply(conn, envelope, read_event(envelope))
        done["assessment"] = len(rows)
    return done
