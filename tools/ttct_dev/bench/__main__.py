"""`python -m ttct_dev.bench`: run the scenarios of issue 6 and write docs/benchmarks.md and .json."""
from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path

from ttct_dev.bench import harness, measure, report, scenarios, store
from ttct_dev.bench.scenarios import BulkSizes, SingleSizes

SCENARIOS = ("growth", "single", "bulk", "rebuild", "peer", "console")


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ttct_dev.bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes, 1 run each (a smoke test, not a measurement)")
    p.add_argument("--repeats", type=int, help="runs per scenario (default 3; 1 with --quick)")
    p.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated subset of {','.join(SCENARIOS)}")
    p.add_argument("--output-dir", type=Path, default=Path("docs"), help="where benchmarks.md/.json go")
    p.add_argument("--work-dir", type=Path, help="servers' data and logs (default: a temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the work dir (logs) afterwards")
    p.add_argument("--timeout", type=float, default=600,
                   help="seconds to wait for the consumers to catch up before reporting them stalled")
    g = p.add_argument_group("1 single commands")
    g.add_argument("--single-requests", type=int, default=20_000, help="closed-loop enrolments")
    g.add_argument("--single-concurrency", type=int, default=32, help="closed-loop requests in flight")
    g.add_argument("--single-rate", type=float, default=300, help="open-loop offered enrolments/s")
    g.add_argument("--single-seconds", type=float, default=20, help="open-loop duration")
    g.add_argument("--classes-per-centre", type=int, default=4)
    g = p.add_argument_group("2 bulk")
    g.add_argument("--list-size", type=int, default=2_000, help="rows of the organisation's list")
    g.add_argument("--year-centres", type=int, default=27)
    g.add_argument("--year-classes", type=int, default=1_500)
    g.add_argument("--year-enrolments", type=int, default=200_000, help="and as many scores")
    g.add_argument("--bulk-concurrency", type=int, default=64, help="requests in flight")
    g.add_argument("--bulk-batch", type=int, default=500, help="rows per request on a batch endpoint")
    g = p.add_argument_group("3 rebuild")
    g.add_argument("--rebuild-events", type=int, default=1_000_000)
    g.add_argument("--rebuild-batch", type=int, default=200, help="events per ProjectionRunner batch "
                   "(the services' CONSUMER_BATCH_SIZE default)")
    g = p.add_argument_group("4 growth")
    g.add_argument("--growth-centres", default="1,10,100")
    g.add_argument("--growth-store", default="0,1000000", help="event store sizes (enrolment's), ascending")
    g.add_argument("--growth-requests", type=int, default=5_000)
    g.add_argument("--growth-rate", type=float, default=100,
                   help="open-loop offered enrolments/s: below capacity, so that p50 is a service time")
    g.add_argument("--growth-seconds", type=float, default=10)
    p.add_argument("--keep-others", action="store_true",
                   help="keep the scenarios of the output dir's benchmarks.json that this run does not run (with "
                        "--only: one scenario measured again without losing the others' figures)")
    g = p.add_argument_group("5 peer")
    g.add_argument("--peer-saves", type=int, default=10_000, help="saves per run and thread count")
    g.add_argument("--peer-threads", default="1,8")
    g = p.add_argument_group("7 console")
    g.add_argument("--console-staff", type=int, default=20, help="staff signed in and working at once")
    g.add_argument("--console-rounds", type=int, default=10, help="rounds of the six pages each")
    g.add_argument("--console-learners", type=int, default=60, help="learners in each staff member's class")
    g.add_argument("--console-think", default="2,0", help="mean seconds on each page before the next request, one "
                   "run of the scenario each (0: requests back to back, a stress test)")
    return p


QUICK = {"single_requests": 300, "single_concurrency": 16, "single_rate": 100, "single_seconds": 2,
         "classes_per_centre": 2, "list_size": 200, "year_centres": 3, "year_classes": 6, "year_enrolments": 300,
         "bulk_concurrency": 16, "rebuild_events": 5_000, "growth_centres": "1,3", "growth_store": "0,5000",
         "growth_requests": 200, "growth_rate": 100, "growth_seconds": 1, "peer_saves": 400, "timeout": 45,
         "console_staff": 4, "console_rounds": 1, "console_learners": 10, "console_think": "0.2,0"}


class Runner:
    def __init__(self, bench: harness.Bench, results: dict, repeats: int) -> None:
        self.bench, self.results, self.repeats = bench, results, repeats

    async def scenario(self, name: str, once, repeats: int | None = None) -> None:
        entry = self.results["scenarios"].setdefault(name, {"runs": [], "notes": []})
        cpu_before, started = self.bench.sampler.cpu(), time.monotonic()
        for i in range(repeats or self.repeats):
            print(f"[bench] {name}: run {i + 1}", flush=True)
            try:
                counting = await measure.statements_reset(self.bench)
                figures = await once(entry["notes"])
            except Exception as exc:  # one scenario failing must not lose the others' figures
                traceback.print_exc()
                entry["error"] = f"{type(exc).__name__}: {exc}"[:500]
                break
            entry["runs"].append(figures)
            if counting:  # the database's side of the run: its costliest statements, run by run
                entry.setdefault("statements", []).append(await measure.top_statements(self.bench))
            print(f"[bench] {name}: {figures}", flush=True)
        cpu_after = self.bench.sampler.cpu()
        self.results["cpu_seconds"][name] = {k: round(cpu_after[k] - cpu_before.get(k, 0.0), 2) for k in cpu_after}
        entry["seconds"] = round(time.monotonic() - started, 1)


async def run(args: argparse.Namespace, work_dir: Path) -> dict:
    only = set(args.only.split(","))
    single = SingleSizes(args.single_requests, args.single_concurrency, args.single_rate, args.single_seconds,
                         args.classes_per_centre)
    growth = replace(single, requests=args.growth_requests, rate=args.growth_rate, seconds=args.growth_seconds)
    bulk = BulkSizes(args.list_size, args.year_centres, args.year_classes, args.year_enrolments,
                     args.bulk_concurrency, args.bulk_batch)
    results: dict = {"quick": args.quick, "repeats": args.repeats, "options": vars(args) | {"output_dir": str(
        args.output_dir), "work_dir": str(work_dir)}, "scenarios": {}, "cpu_seconds": {}}
    started = time.monotonic()
    async with harness.running(work_dir) as bench:
        results["machine"] = await harness.machine(bench)
        r = Runner(bench, results, args.repeats)
        stores = sorted(_ints(args.growth_store))
        centres = _ints(args.growth_centres)

        async def growth_at(size: int) -> None:
            if size:
                added = await store.fill_to(bench.pools["enrolment"], size, centres=bench.centre_codes(1))
                print(f"[bench] enrolment's event store filled with {added} events", flush=True)
            for n in centres:
                label = "store empty" if size == 0 else f"store {size:,} events"
                await r.scenario(f"4 growth: {n} centre{'s' if n > 1 else ''}, {label}",
                                 lambda notes, n=n: scenarios.single_commands(bench, growth, n, args.timeout, notes))

        if "growth" in only and stores and stores[0] == 0:
            await growth_at(0)  # first, while the store is still empty
        if "single" in only:
            await r.scenario("1 single commands", lambda notes: scenarios.single_commands(bench, single, 1, args.timeout,
                                                                             notes))
        if "bulk" in only:
            await r.scenario("2 bulk: organisation list", lambda notes: scenarios.org_list(bench, bulk, args.timeout, notes))
            await r.scenario("2 bulk: province year", lambda notes: scenarios.province_year(bench, bulk, args.timeout, notes))
        if "growth" in only:
            for size in stores:
                if size:
                    await growth_at(size)
        if "rebuild" in only:
            pool = await store.prepare_rebuild(bench, args.rebuild_events)
            try:
                await r.scenario("3 rebuild", lambda _n: store.rebuild(pool, args.rebuild_batch))
            finally:
                await pool.close()
        if "peer" in only:
            from ttct_dev.bench import peer

            await harness.ensure_database(bench, peer.DATABASE)
            env = peer.environment(bench.stack.postgres_url)
            for threads in _ints(args.peer_threads):
                await r.scenario(f"5 peer: saves, {threads} thread{'s' if threads > 1 else ''}",
                                 lambda _n, t=threads: asyncio.to_thread(peer.saves, env, args.peer_saves, t))
            await r.scenario("5 peer: catch-up", lambda _n: asyncio.to_thread(peer.catch_up, env, args.timeout))
        if "console" in only:
            from ttct_dev.bench import console
            from ttct_dev.console import Console

            with Console(bench.services, work_dir, log_dir=work_dir / "logs") as running:
                for name, proc in zip(("oidc", "console"), running._procs):  # noqa: SLF001 - the pids are what we sample
                    bench.sampler.watch(name, proc.pid)
                for think in (float(x) for x in args.console_think.split(",") if x.strip()):
                    sizes = console.ConsoleSizes(args.console_staff, args.console_rounds, args.console_learners, think)
                    await r.scenario(sizes.label, lambda notes, s=sizes: console.staff_at_once(bench, running, s, notes))
        results["rss_peak_bytes"] = dict(bench.sampler.peak_rss)
    results["seconds"] = round(time.monotonic() - started, 1)
    report.summarise(results)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.quick:
        defaults = parser().parse_args([])
        for key, value in QUICK.items():  # quick sizes, unless given on the command line
            if getattr(args, key) == getattr(defaults, key):
                setattr(args, key, value)
    args.repeats = args.repeats or (1 if args.quick else 3)
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="ttct-bench-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    try:
        results = asyncio.run(run(args, work_dir.resolve()))
    finally:
        if not args.keep and not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            print(f"[bench] logs and data kept in {work_dir}", flush=True)
    if args.keep_others:
        report.keep_others(results, args.output_dir)
    md, js = report.write(results, args.output_dir)
    print(f"[bench] wrote {md} and {js} in {results['seconds'] / 60:.1f} min", flush=True)
    failed = [name for name, s in results["scenarios"].items() if s.get("error")]
    if failed:
        print(f"[bench] scenarios that failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
