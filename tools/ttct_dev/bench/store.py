"""Filling an event store directly (COPY, not HTTP) and scenario 3: rebuilding a projection from it.

The rebuild empties assessment's projection tables (its learners-per-class facts) and the checkpoints of a
consumer of its own, then replays every stored event through the very `ProjectionRunner` the services run
(shared/ttct/eventsourcing/consumer.py), with the handlers assessment's composition root wires for enrolment's events, in
pages read by position. What it leaves out is JetStream: the pages come straight
from the table, as a rebuild tool would read them; the figure is the projection side's rate.
"""
from __future__ import annotations

import asyncio
import gc
import json
import os
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from ttct.contracts import LearnerEnrolled
from ttct.eventsourcing.consumer import ProjectionRunner
from ttct.operations.collector import pace_collector
from ttct.operations.schema import migrate
from ttct.privacy.personal import KeyRing, KeyVault, PersonalData, seal
from ttct.privacy.tenancy import keep_session

from ttct_dev.bench.harness import PROVINCE, Bench, ensure_database

COPY_CHUNK = 20_000
COLUMNS = ["stream_id", "stream_version", "event_id", "event_type", "schema_version", "occurred_at", "envelope"]


def _records(n: int, per_stream: int, centres: list[str], start: datetime, keys: list | None = None):
    """n LearnerEnrolled events as `events` rows, `per_stream` per class roster, valid against the contracts:
    v1 (names in clear, read through the upcaster), or, with `keys`, v2 as the services store them today, the name
    sealed with a key of the learner's own that is appended to `keys` (learner_id, centre, key) for the vault."""
    stream = class_id = centre = None
    for i in range(n):
        version = i % per_stream + 1
        if version == 1:
            class_id, centre = str(uuid.uuid4()), centres[(i // per_stream) % len(centres)]
            stream = f"enrolment:roster:{class_id}"
        at = start + timedelta(milliseconds=i)
        event_id, learner_id = uuid.uuid4(), uuid.uuid4()
        name, born = f"Nguyễn Văn Học {i}", f"19{70 + i % 30}-0{1 + i % 9}-1{i % 9}"
        if keys is None:
            person, version_of_schema = {"full_name": name, "date_of_birth": born}, 1
        else:
            key = os.urandom(32)
            keys.append((learner_id, centre, key))
            sealed = seal(key, learner_id, PersonalData(full_name=name, date_of_birth=born), os.urandom(12))
            person, version_of_schema = {"personal": sealed.model_dump(mode="json")}, 2
        envelope = {
            "event_id": str(event_id), "event_type": "LearnerEnrolled", "schema_version": version_of_schema,
            "occurred_at": at.isoformat(), "province": PROVINCE, "centre": centre, "stream_id": stream,
            "stream_version": version, "correlation_id": str(uuid.uuid4()), "causation_id": None,
            "traceparent": None, "tracestate": None,
            "payload": {"class_id": class_id, "class_title": "Lớp triển khai nghị quyết (lịch sử)",
                        "learner_id": str(learner_id), **person,
                        "sending_organisation": {"code": f"org-{i % 500}", "name": f"Đảng ủy xã số {i % 500}"},
                        "seat_number": version},
        }
        yield (stream, version, event_id, "LearnerEnrolled", version_of_schema, at,
               json.dumps(envelope, ensure_ascii=False))


async def fill(pool: asyncpg.Pool, n: int, *, per_stream: int = 500, centres: list[str] | None = None,
               sealed: bool = False) -> float:
    """Append n events with COPY, in chunks, into `events` only: they stand for history already published, so
    they get no outbox rows. `sealed`: v2 events, their learners' keys COPYed into the same database's vault
    table. Returns the seconds it took."""
    started = time.monotonic()
    keys: list | None = [] if sealed else None
    rows = _records(n, per_stream, centres or ["history"], datetime(2020, 1, 1, tzinfo=UTC), keys)
    while chunk := [r for _, r in zip(range(COPY_CHUNK), rows, strict=False)]:
        async with pool.acquire() as conn:
            await conn.copy_records_to_table("events", records=chunk, columns=COLUMNS)
            if keys:
                await conn.copy_records_to_table("learner_keys", records=keys,
                                                 columns=["learner_id", "centre", "key"])
                keys.clear()
    async with pool.acquire() as conn:
        await conn.execute("ANALYZE events")
    return time.monotonic() - started


async def fill_to(pool: asyncpg.Pool, total: int, **kw) -> int:
    """Fill until the store holds at least `total` events; return how many were added."""
    have = await pool.fetchval("SELECT count(*) FROM events")
    if have < total:
        await fill(pool, total - have, **kw)
    return max(0, total - have)


class _Stored:
    """What ProjectionRunner uses of a JetStream message, for an event read from the store."""

    __slots__ = ("data", "subject", "waits")
    reply = ""

    class metadata:  # noqa: N801 - mirrors nats.aio.msg.Msg.metadata
        num_delivered = 1

    def __init__(self, data: bytes, subject: str) -> None:
        self.data, self.subject, self.waits = data, subject, 0

    async def ack(self) -> None:
        pass

    async def nak(self, delay: float | None = None) -> None:
        self.waits += 1


REBUILD_DB = "ttct_bench_rebuild"
CONSUMER = "bench-rebuild"


def assessment_projection(ring: KeyRing | None = None) -> tuple[list[str], dict]:
    """Assessment's schema and its handlers of enrolment's events, as its composition root wires them (read-only
    use of the service; the older layout had them in adapters/views.py). `ring`: the key vault the handlers open
    the learners' names with (the rebuild's history is v2: sealed names, keys in the vault)."""
    from assessment import bootstrap

    if hasattr(bootstrap, "projections"):
        return list(bootstrap.SCHEMA), bootstrap.projections(ring)["enrolment"]
    from assessment.adapters import views

    return list(views.SCHEMA), {LearnerEnrolled: views.on_learner_enrolled}


def _tables(schema: list[str]) -> list[str]:
    return [m for s in schema for m in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", s)]


async def rebuild_pool(url: str) -> asyncpg.Pool:
    """A pool for the rebuild as the services make theirs (ttct.operations.runtime): no reset on release. asyncpg's
    default reset is a round trip more per checkout, three per page (its read, the keys, the transaction)."""
    return await asyncpg.create_pool(url, min_size=2, max_size=4, reset=keep_session)


async def prepare_rebuild(bench: Bench, events: int) -> asyncpg.Pool:
    pool = await rebuild_pool(await ensure_database(bench, REBUILD_DB))
    await migrate(pool, assessment_projection()[0])
    await KeyVault(pool).migrate()
    # history as the services store it today: names sealed, keys in the vault (the rebuild opens each one)
    await fill_to(pool, events, per_stream=200, sealed=True)
    return pool


async def rebuild(pool: asyncpg.Pool, batch: int) -> dict[str, float]:
    """Empty assessment's projection tables and the consumer's checkpoints, replay every stored event through
    a ProjectionRunner with assessment's own handlers; events per second."""
    ring = KeyRing(KeyVault(pool))
    await ring.vault.migrate()
    schema, handlers = assessment_projection(ring)
    tables = _tables(schema)
    async with pool.acquire() as conn:
        await conn.execute("TRUNCATE " + ", ".join(tables) + " CASCADE")
        await conn.execute("DELETE FROM consumer_checkpoints WHERE consumer = $1", CONSUMER)
        await conn.execute("DELETE FROM dead_letters WHERE consumer = $1", CONSUMER)
        for table in [*tables, "consumer_checkpoints"]:
            await conn.execute(f"VACUUM ANALYZE {table}")
    runner = ProjectionRunner(pool, CONSUMER, handlers, prepare=ring.prefetch)  # the batch's keys in one query
    subject = f"ttct.{PROVINCE}.history.enrolment.LearnerEnrolled"

    async def page(after: int) -> list[asyncpg.Record]:
        # the body as the bytes a message carries (bytea): as text, asyncpg decoded it and it was encoded again
        return await pool.fetch("SELECT position, convert_to(envelope::text, 'UTF8') AS body FROM events"
                                " WHERE position > $1 ORDER BY position LIMIT $2", after, batch)

    replayed = waits = 0
    collector = pace_collector()  # the pace the services and `ttct.admin … rebuild` run at; restored after
    try:
        started = time.monotonic()
        upcoming = asyncio.create_task(page(0))
        while rows := await upcoming:
            upcoming = asyncio.create_task(page(rows[-1]["position"]))  # read the next page while this one applies
            msgs = [_Stored(body, subject) for _, body in rows]
            await runner.handle_batch(msgs)
            replayed += len(msgs)
            waits += sum(m.waits for m in msgs)
        seconds = time.monotonic() - started
    finally:
        gc.set_threshold(*collector)
    counts = [await pool.fetchval(f"SELECT count(*) FROM {t}") for t in tables]
    projected = max(counts, default=0)
    dead = await pool.fetchval("SELECT count(*) FROM dead_letters WHERE consumer = $1", CONSUMER)
    return {"rebuild_events_count": replayed, "rebuild_s": round(seconds, 2),
            "rebuild_per_s": round(replayed / seconds, 1), "rebuild_rows_projected_count": projected,
            "rebuild_out_of_order_count": waits, "rebuild_dead_letters_count": dead, "rebuild_batch_count": batch}
