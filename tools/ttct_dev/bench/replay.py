"""`python -m ttct_dev.bench.replay`: the rebuild scenario alone, for profiling and before/after comparisons.

The bench's scenario 3 (`store.rebuild`: sealed LearnerEnrolled through `ProjectionRunner.handle_batch` and
assessment's handlers) on a durable stack of its own without the services, so that `py-spy record -- python -m
ttct_dev.bench.replay` samples only the replay, and the CPU time per event of this process is a figure the other
load on the machine distorts less than events per second. Prints, per run, the rate, the CPU per event of this
process and of PostgreSQL, and the share of it spent in the garbage collector.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import os
import tempfile
import time
from pathlib import Path

import psutil
from ttct.operations.schema import migrate
from ttct.privacy.personal import KeyVault

from ttct_dev.bench import store
from ttct_dev.stack import LocalStack, database_url, ensure_databases


class CollectorClock:
    """CPU seconds spent in the garbage collector's collections."""

    def __init__(self) -> None:
        self.seconds, self._started = 0.0, 0.0
        gc.callbacks.append(self._tick)

    def _tick(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started


def _cpu(pid: int) -> float:
    """CPU seconds of a PostgreSQL server: the postmaster, its live backends and those it has reaped."""
    total = 0.0
    main = psutil.Process(pid)
    for proc in [main, *main.children()]:
        t = proc.cpu_times()
        total += t.user + t.system + getattr(t, "children_user", 0.0) + getattr(t, "children_system", 0.0)
    return total


async def replay(data_dir: Path, events: int, runs: int, batch: int) -> None:
    stack = LocalStack(data_dir, durable=True)
    info = stack.start()
    try:
        await ensure_databases(info.postgres_url, [store.REBUILD_DB])
        pool = await store.rebuild_pool(database_url(info.postgres_url, store.REBUILD_DB))
        try:
            await migrate(pool, store.assessment_projection()[0])
            await KeyVault(pool).migrate()
            await store.fill_to(pool, events, per_stream=200, sealed=True)
            postgres = int((stack.pgdata / "postmaster.pid").read_text().split()[0])
            collector = CollectorClock()
            for run in range(1, runs + 1):
                cpu, pg, collected = time.process_time(), _cpu(postgres), collector.seconds
                figures = await store.rebuild(pool, batch)
                n = figures["rebuild_events_count"]
                print(f"run {run}: {figures['rebuild_per_s']:,.0f} events/s; CPU per event: this process "
                      f"{1e6 * (time.process_time() - cpu) / n:.1f} µs (collector "
                      f"{1e6 * (collector.seconds - collected) / n:.1f}), PostgreSQL {1e6 * (_cpu(postgres) - pg) / n:.1f}"
                      f" µs; dead letters {figures['rebuild_dead_letters_count']}, waits "
                      f"{figures['rebuild_out_of_order_count']}; load average {os.getloadavg()[0]:.1f}", flush=True)
        finally:
            await pool.close()
    finally:
        stack.stop()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m ttct_dev.bench.replay", description=__doc__)
    p.add_argument("--events", type=int, default=50_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--data-dir", type=Path, help="keep the stack's data here (filled once, reused); "
                   "default: a temporary directory")
    args = p.parse_args()
    if args.data_dir:
        asyncio.run(replay(args.data_dir, args.events, args.runs, args.batch))
    else:
        with tempfile.TemporaryDirectory(prefix="ttct-replay-") as tmp:
            asyncio.run(replay(Path(tmp), args.events, args.runs, args.batch))


if __name__ == "__main__":
    main()
