"""`python -m ttct_dev.bench.profile`: where the CPU goes while the services take enrolments.

Starts the benchmark's private durable stack with the four services, opens classes, then drives the workload
through the HTTP API while `py-spy record` samples every service process (all threads, idle frames left out):
`enrolments`, closed-loop single enrolments (docs/profiles.md), or `lists`, organisations' lists of 2,000
learners posted to the batch route as the benchmark's bulk scenario posts them, 500 rows a request
(docs/profiles-lists.md). The samples are folded per service into the share of samples by library (the
innermost frame that belongs to a known package decides) and the functions with the most own time, plus the
raw folded stacks in `docs/profiles/<workload>/<service>.folded` for a flame graph (e.g. speedscope.app,
inferno; megabytes each, so git ignores them).

    python -m ttct_dev.bench.profile [--workload enrolments|lists] [--seconds 30] [--concurrency 32]
                                     [--output-dir docs]

py-spy needs ptrace rights on the services' processes (they are this process's children, which suffices on a
default Linux `kernel.yama.ptrace_scope = 1`).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import math
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ttct_dev.bench import harness
from ttct_dev.bench.load import closed_loop, enrolment_body, open_classes, register, seats_for
from ttct_dev.bench.measure import caught_up
from ttct_dev.bench.scenarios import bulk_path, list_row, send_bulk

LIST_ROWS, LIST_BATCH = 2_000, 500  # the bench's organisation's list and its rows a request

# The innermost frame whose file lies under one of these decides a sample's bucket ("own" time of that layer,
# including what it calls in C); ordered so that more specific prefixes win.
BUCKETS: tuple[tuple[str, str], ...] = (
    ("site-packages/opentelemetry", "OpenTelemetry (tracing, instrumentation)"),
    ("site-packages/asyncpg/", "asyncpg (PostgreSQL driver)"),
    ("site-packages/nats/", "nats-py (NATS client)"),
    ("site-packages/pydantic", "pydantic (validation, serialisation)"),
    ("site-packages/fastapi/", "FastAPI"),
    ("site-packages/starlette/", "Starlette"),
    ("site-packages/uvicorn/", "uvicorn / httptools (HTTP server)"),
    ("site-packages/httptools/", "uvicorn / httptools (HTTP server)"),
    ("site-packages/structlog/", "structlog (logging)"),
    ("/logging/", "logging (stdlib)"),
    ("site-packages/jwt/", "PyJWT (token checks)"),
    ("site-packages/cryptography/", "cryptography"),
    ("/json/", "json (stdlib)"),
    ("/asyncio/", "asyncio event loop"),
    ("site-packages/uvloop/", "asyncio event loop"),
    ("shared/ttct/", "ttct shared core (shared/ttct)"),
    ("services/", "the service's own code"),
)


def _bucket(frames: list[str]) -> str:
    for frame in reversed(frames):  # innermost first
        for needle, name in BUCKETS:
            if needle in frame:
                return name
    return "other (stdlib, C extensions)"


def _own(frames: list[str]) -> str:
    # py-spy's raw frames read "function (path/file.py:line)"; own time is the innermost frame's function
    frame = frames[-1] if frames else "?"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/shared/", "/services/", "/lib/python3.11/", "/lib/python3.12/",
                   "/lib/python3.13/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def fold(folded: Path) -> dict:
    """Totals of a py-spy raw (folded) file: samples, by bucket, by own function."""
    total, buckets, own, code = 0, collections.Counter(), collections.Counter(), collections.Counter()
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if f and not f.startswith("process ") and not f.startswith("thread ")]
        total += n
        buckets[_bucket(frames)] += n
        own[_own(frames)] += n
        ours = [f for f in frames if "/shared/ttct/" in f or "/services/" in f]
        code[_own(ours[-1:]) if ours else "(no frame of ours: event loop, server, libraries)"] += n
    return {"samples": total, "buckets": buckets.most_common(), "own": own.most_common(15),
            "code": code.most_common(15)}


async def _drive(args: argparse.Namespace, work: Path, out_dir: Path) -> dict:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    async with harness.running(work) as bench:
        centres = bench.centre_codes(4)
        if args.workload == "lists":  # a class per list, more than the run can fill
            classes = await open_classes(bench, centres[:1], math.ceil(args.seconds), LIST_ROWS, bench.tag())
        else:  # enough seats for the run at a generous rate; capacity per class is capped by the domain at 5,000
            n = int(args.seconds * 2500)
            per_centre = max(2, math.ceil(n / len(centres) / 4000))
            classes = await open_classes(bench, centres, per_centre,
                                         min(5000, math.ceil(n / (len(centres) * per_centre)) + 1), bench.tag())
        await caught_up(bench, timeout=120)
        folded = {s: out_dir / f"{s}.folded" for s in bench.services._procs}  # noqa: SLF001 - pids to sample
        spies = {s: subprocess.Popen([spy, "record", "--pid", str(p.pid), "--duration", str(int(args.seconds)),
                                      "--rate", str(args.rate), "--format", "raw", "--nonblocking", "--full-filenames",
                                      "--output", str(folded[s])],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for s, p in bench.services._procs.items()}  # noqa: SLF001
        await asyncio.sleep(1)  # py-spy attaches
        cpu_before = bench.sampler.cpu()
        started = time.monotonic()
        orgs = [f"prof-o{k}" for k in range(10)]
        await register(bench, orgs, centres[0])  # enrolment refuses an organisation its directory does not know
        deadline = started + args.seconds - 1
        done = 0
        if args.workload == "lists":
            path = await bulk_path(bench, "enrolment", "enrolments")
            for k, cls in enumerate(classes):
                if time.monotonic() >= deadline:
                    break
                seats = seats_for([cls], LIST_ROWS, orgs[:1])
                rows = [list_row(enrolment_body(bench, k * LIST_ROWS + i, s.organisation)) for i, s in enumerate(seats)]
                await send_bulk(bench, "enrolment", path, "rows", seats, rows, LIST_BATCH, args.concurrency)
                done += LIST_ROWS  # send_bulk raises unless every request was answered 2xx
        else:
            while time.monotonic() < deadline:
                batch = seats_for(classes, args.concurrency * 20, orgs)
                tally = await closed_loop(bench, batch, args.concurrency)
                done += len(tally.ok)
        elapsed = time.monotonic() - started
        cpu_after = bench.sampler.cpu()
        if done == 0:  # a profile of refusals is not the profile of enrolments
            raise SystemExit(f"no learner was enrolled in {elapsed:.0f} s: the profile would be of refusals")
        errors = {s: p.communicate(timeout=args.seconds + 60)[1].decode(errors="replace") for s, p in spies.items()}
        await caught_up(bench, timeout=300)
        return {"enrolments": done, "seconds": elapsed, "folded": folded, "errors": errors,
                "cpu": {k: cpu_after[k] - cpu_before.get(k, 0.0) for k in cpu_after}}


def _report(args: argparse.Namespace, run: dict, folds: dict[str, dict]) -> str:
    if args.workload == "lists":
        title, load = "take organisations' lists", (
            f"organisations' lists of {LIST_ROWS:,} learners, each into a class of its own, posted to enrolment's "
            f"batch route {LIST_BATCH} rows a request ({args.concurrency} requests at most in flight) for "
            f"{args.seconds:.0f} s")
    else:
        title, load = "take enrolments", (f"closed-loop enrolments through the HTTP API at {args.concurrency} in "
                                          f"flight for {args.seconds:.0f} s")
    lines = [f"# Profiles: where the CPU goes while the services {title}", "",
             f"Written by `make profile` (`python -m ttct_dev.bench.profile --workload {args.workload}`): {load}, "
             f"while `py-spy record` samples every service process at {args.rate} Hz (idle frames left out, so the "
             "shares are of the CPU each service used). The machine is the same as in docs/benchmarks.md; py-spy's "
             "sampling slows the services somewhat, so the throughput here is lower than the benchmark's.", "",
             f"- Machine: {platform.machine()}, Python {platform.python_version()}",
             f"- Learners enrolled during the profile: {run['enrolments']:,} in {run['seconds']:.1f} s "
             f"({run['enrolments'] / run['seconds']:.0f}/s)",
             "- CPU per learner enrolled (ms, user + system): " + ", ".join(
                 f"{name} {seconds / max(run['enrolments'], 1) * 1000:.2f}" for name, seconds in run["cpu"].items()),
             "",
             f"`make profile` leaves the raw folded stacks in `docs/profiles/{args.workload}/<service>.folded` (open "
             "them in speedscope.app or inferno; not kept in git: megabytes each).",
             ""]
    for service, f in folds.items():
        total = f["samples"] or 1
        cpu_ms = run["cpu"].get(service, 0.0) / max(run["enrolments"], 1) * 1000
        lines += [f"## {service}", "",
                  f"{f['samples']:,} samples of a busy thread; {cpu_ms:.2f} ms of CPU (user + system, psutil) per "
                  "learner enrolled.", "",
                  "| layer (innermost frame) | share |", "|---|---:|"]
        lines += [f"| {name} | {n / total:.1%} |" for name, n in f["buckets"]]
        lines += ["", "| function (own time) | share |", "|---|---:|"]
        lines += [f"| `{name}` | {n / total:.1%} |" for name, n in f["own"]]
        lines += ["", "| our innermost function (inclusive: what it calls in libraries counts) | share |",
                  "|---|---:|"]
        lines += [f"| `{name}` | {n / total:.1%} |" for name, n in f["code"]]
        if run["errors"].get(service, "").strip():
            lines += ["", f"py-spy said: `{run['errors'][service].strip().splitlines()[-1]}`"]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ttct_dev.bench.profile", description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", choices=("enrolments", "lists"), default="enrolments",
                   help="single enrolments (docs/profiles.md) or organisations' lists (docs/profiles-lists.md)")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    p.add_argument("--output-dir", type=Path, default=Path("docs"))
    args = p.parse_args(argv)
    stacks = args.output_dir / "profiles" / args.workload
    stacks.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ttct-profile-") as work:
        run = asyncio.run(_drive(args, Path(work), stacks))
    folds = {s: fold(path) for s, path in run["folded"].items() if path.exists()}
    report = args.output_dir / ("profiles.md" if args.workload == "enrolments" else f"profiles-{args.workload}.md")
    report.write_text(_report(args, run, folds))
    print(f"wrote {report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
