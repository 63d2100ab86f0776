"""How the ends of a measurement are found: when the notification projection holds given enrolments, and when
every consumer has caught up. Plus the small statistics the report needs.
"""
from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from ttct.eventsourcing.topology import PUBLISHES, READS

from ttct_dev.bench.harness import Bench

PUBLISHERS = tuple(PUBLISHES)
CONSUMERS = tuple(s for s, reads in READS.items() if reads)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the values; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(runs: Sequence[float]) -> dict:
    return {"median": statistics.median(runs), "min": min(runs), "max": max(runs)} if runs else {}


async def projected(bench: Bench, organisations: Sequence[str], expected: int, *, timeout: float,
                    poll: float = 0.25) -> dict[str, float]:
    """learner_id -> epoch seconds at which notification's `organisation_learners` row of it was committed.

    With commit timestamps on, the time is that of the consumer transaction that wrote the row
    (`pg_xact_commit_timestamp(xmin)`), exact whatever the polling interval; the poll only asks how many rows
    there are yet (an index range scan on the organisations of this measurement). Without them, the time is when
    a poll (every 20 ms) first saw the row."""
    pool = bench.pools["notification"]
    deadline = time.monotonic() + timeout
    if bench.commit_timestamps:
        while await pool.fetchval("SELECT count(*) FROM organisation_learners WHERE organisation_code = ANY($1)"
                                  " AND enrolled_at IS NOT NULL", list(organisations)) < expected:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(poll)
        rows = await pool.fetch("SELECT learner_id::text, pg_xact_commit_timestamp(xmin) AS at"
                                " FROM organisation_learners WHERE organisation_code = ANY($1)"
                                " AND enrolled_at IS NOT NULL", list(organisations))
        return {r["learner_id"]: r["at"].timestamp() for r in rows if r["at"] is not None}
    seen: dict[str, float] = {}
    while len(seen) < expected and time.monotonic() < deadline:
        rows = await pool.fetch("SELECT learner_id::text FROM organisation_learners WHERE organisation_code = ANY($1)"
                                " AND enrolled_at IS NOT NULL", list(organisations))
        now = time.time()
        for r in rows:
            seen.setdefault(r["learner_id"], now)
        await asyncio.sleep(0.02)
    return seen


async def lag(bench: Bench) -> dict[str, int]:
    """What is still on its way: outbox rows per publisher, and pending + unacked messages per consumer."""
    out: dict[str, int] = {}
    for service in PUBLISHERS:
        out[f"outbox:{service}"] = await bench.pools[service].fetchval("SELECT count(*) FROM outbox")
    js = bench.nc.jetstream()
    for stream in PUBLISHES.values():  # every durable consumer there is, whatever the topology names it
        for info in await js.consumers_info(stream):
            out[f"{info.name}<-{stream}"] = info.num_pending + info.num_ack_pending
    return out


async def caught_up(bench: Bench, *, timeout: float, baseline: dict[str, int] | None = None,
                    poll: float = 0.1) -> tuple[float, dict[str, int]]:
    """Wait until no outbox holds a row and every JetStream consumer has num_pending == num_ack_pending == 0;
    return (the epoch time at which that happened, {}) or, after `timeout`, (now, what is still left).

    `baseline`: lag already there before the measurement (messages an earlier run left stuck) that does not
    count. The time returned is the last commit of any consumer's checkpoint (every applied batch writes one,
    in its own transaction) when commit timestamps are on: exact. Otherwise it is the poll that saw it."""
    baseline = baseline or {}
    deadline = time.monotonic() + timeout
    while True:
        left = {k: v - baseline.get(k, 0) for k, v in (await lag(bench)).items() if v > baseline.get(k, 0)}
        if not left:
            break
        if time.monotonic() > deadline:
            return time.time(), left
        await asyncio.sleep(poll)
    seen = time.time()
    if not bench.commit_timestamps:
        return seen, {}
    last: list[datetime] = []
    for service in CONSUMERS:
        at = await bench.pools[service].fetchval(
            "SELECT max(pg_xact_commit_timestamp(xmin)) FROM consumer_checkpoints")
        if at is not None:
            last.append(at)
    return (max(last).timestamp() if last else seen), {}


async def events_stored(bench: Bench, service: str = "enrolment") -> int:
    return await bench.pools[service].fetchval("SELECT count(*) FROM events")


async def statements_reset(bench: Bench) -> bool:
    """Start PostgreSQL's statement statistics afresh (False when pg_stat_statements is not loaded)."""
    conn = await asyncpg.connect(bench.stack.postgres_url)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await conn.execute("SELECT pg_stat_statements_reset()")
        return True
    except asyncpg.PostgresError:
        return False
    finally:
        await conn.close()


async def top_statements(bench: Bench, n: int = 12) -> list[dict]:
    """The statements PostgreSQL spent most time executing since the last reset, every database's: where a
    scenario's database time goes, and (run after run) which statement's cost grows with the tables."""
    conn = await asyncpg.connect(bench.stack.postgres_url)
    try:
        rows = await conn.fetch(
            "SELECT d.datname, s.calls, s.total_exec_time, s.mean_exec_time, s.rows, s.shared_blks_hit,"
            " s.shared_blks_read, s.query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
            " ORDER BY s.total_exec_time DESC LIMIT $1", n)
    except asyncpg.PostgresError:
        return []
    finally:
        await conn.close()
    return [{"database": r["datname"], "calls": r["calls"], "total_s": round(r["total_exec_time"] / 1000, 2),
             "mean_ms": round(r["mean_exec_time"], 3), "rows": r["rows"],
             "blocks_per_call": round((r["shared_blks_hit"] + r["shared_blks_read"]) / max(r["calls"], 1), 1),
             "query": " ".join(r["query"].split())[:400]} for r in rows]
