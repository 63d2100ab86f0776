"""The tables of the shared core, present in every service's database, and the migration runner.

Each service adds its own projection tables as a list of idempotent statements; migrations run under an
advisory lock so that replicas starting together do not race.
"""
from __future__ import annotations

import contextlib
from collections.abc import Sequence

import asyncpg

from ttct.http.idempotency import SCHEMA as IDEMPOTENCY_SCHEMA
from ttct.privacy.audit import SCHEMA as AUDIT_SCHEMA
from ttct.privacy.tenancy import SCHEMA as TENANCY_SCHEMA

CORE_SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS events (
        position        bigserial PRIMARY KEY,
        stream_id       text        NOT NULL,
        stream_version  integer     NOT NULL CHECK (stream_version >= 1),
        event_id        uuid        NOT NULL UNIQUE,
        event_type      text        NOT NULL,
        schema_version  integer     NOT NULL,
        occurred_at     timestamptz NOT NULL,
        envelope        jsonb       NOT NULL,
        UNIQUE (stream_id, stream_version)
    )
    """,
    # Events are immutable: the table refuses updates and deletes, whoever asks.
    """
    CREATE OR REPLACE FUNCTION ttct_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'events are immutable (%, position %)', TG_OP, OLD.position; END $$
    """,
    "DROP TRIGGER IF EXISTS events_immutable ON events",
    """
    CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION ttct_events_immutable()
    """,
    """
    CREATE TABLE IF NOT EXISTS outbox (
        position    bigint      PRIMARY KEY,
        enqueued_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS consumer_checkpoints (
        consumer        text    NOT NULL,
        stream_id       text    NOT NULL,
        stream_version  integer NOT NULL,
        event_id        uuid    NOT NULL,
        PRIMARY KEY (consumer, stream_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS consumer_failures (
        consumer  text    NOT NULL,
        event_id  uuid    NOT NULL,
        failures  integer NOT NULL,
        PRIMARY KEY (consumer, event_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dead_letters (
        id            bigserial   PRIMARY KEY,
        consumer      text        NOT NULL,
        subject       text        NOT NULL,
        event_id      uuid,
        stream_id     text,
        stream_version integer,
        deliveries    integer     NOT NULL,
        error         text        NOT NULL,
        body          bytea       NOT NULL,
        failed_at     timestamptz NOT NULL DEFAULT now()
    )
    """,
    # A stream parked behind a dead letter (ttct.eventsourcing.consumer): the last version kept, in order, as a
    # held dead letter behind it; a stream parked at its first event has a row before any event was applied.
    "ALTER TABLE consumer_checkpoints ADD COLUMN IF NOT EXISTS held_to integer",
    "ALTER TABLE consumer_checkpoints ALTER COLUMN event_id DROP NOT NULL",
    "CREATE INDEX IF NOT EXISTS dead_letters_by_stream ON dead_letters (consumer, stream_id, stream_version)",
    # The outbox is a queue: rows come and go by the thousand, so it is mostly dead tuples between vacuums, and
    # the planner's stale row count made the relay's few-row read launch parallel workers (5-20 ms a poll, and
    # growing with the churn). No parallel scans of it, and vacuumed after every thousand rows gone.
    "ALTER TABLE outbox SET (parallel_workers = 0, autovacuum_vacuum_scale_factor = 0,"
    " autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0)",
]

_MIGRATION_LOCK = 7_243_001


async def migrate(db: asyncpg.Pool | asyncpg.Connection, service_schema: Sequence[str] = ()) -> None:
    """Run as the login role, the tables' owner (ttct.operations.runtime: before its pool switches to the application role)."""
    async with contextlib.AsyncExitStack() as stack:
        conn = await stack.enter_async_context(db.acquire()) if isinstance(db, asyncpg.Pool) else db
        await stack.enter_async_context(conn.transaction())
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        # a backfill must see every centre's rows: the owner, too, is subject to FORCE ROW LEVEL SECURITY
        await conn.execute("SELECT set_config('ttct.scope', 'all', true)")
        for statement in [*CORE_SCHEMA, *TENANCY_SCHEMA, *IDEMPOTENCY_SCHEMA, *AUDIT_SCHEMA, *service_schema]:
            await conn.execute(statement)
