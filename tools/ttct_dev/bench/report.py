"""docs/benchmarks.json (everything, every run) and docs/benchmarks.md (median, min, max; targets; method)."""
from __future__ import annotations

import json
import operator
from pathlib import Path

from ttct_dev.bench.measure import summary

MIB = 2**20

CONSOLE = "7 console: 20 staff at once, 2 s on each page"  # people read a page before they ask for the next

# (what, scenario, figure, comparison, threshold): the targets of the second round of speed work, the peer's
# ratios of the first round, and the console's
TARGETS = [
    ("single commands through HTTP, closed loop, all four services consuming", "1 single commands",
     "closed_pipeline_per_s", ">=", 600),
    ("p99 request → notification projection at an offered 300/s", "1 single commands",
     "open_to_projection_p99_ms", "<=", 50),
    ("bulk: organisation's list stored and projected everywhere", "2 bulk: organisation list", "list_per_s",
     ">=", 10000),
    ("bulk: province year's enrolments stored and projected everywhere", "2 bulk: province year",
     "year_enrol_per_s", ">=", 10000),
    ("bulk: the province's year (open, enrol, score, finalise)", "2 bulk: province year", "year_total_s", "<", 60),
    ("rebuild a projection", "3 rebuild", "rebuild_per_s", ">=", 20000),
    ("single commands ÷ peer's 8-thread save rate", "ratios", "single_vs_peer_saves_8_threads", ">=", 1.25),
    ("rebuild ÷ peer's ProjectionRunner catch-up", "ratios", "rebuild_vs_peer_catchup", ">=", 13),
    ("console: 20 staff at once, p95 of the slowest page (server time)", CONSOLE, "worst_page_p95_ms", "<=", 150),
    ("console: the largest page", CONSOLE, "largest_page_kb", "<=", 150),
]
# latency flat as the store and the province grow: each growth run's p50 ÷ the smallest one's
FLAT = ("open_to_projection_p50_ms", 1.2)
OPS = {">=": operator.ge, "<=": operator.le, "<": operator.lt}

METHOD = """\
- **Stack**: a private NATS JetStream and PostgreSQL started by the harness (`LocalStack(durable=True)`: fsync,
  synchronous_commit and full_page_writes on), plus `track_commit_timestamp = on` so that the commit time of a
  projection row can be read back (`pg_xact_commit_timestamp(xmin)`). The four services run as in `make run`
  (own processes, own databases, default settings). The load generator (httpx) runs on the same machine and its
  CPU is counted in the CPU table: on 2 cores it competes with what it measures. PostgreSQL loads
  `pg_stat_statements`, reset before each run: each scenario's section lists the statements its last run spent
  most time on (benchmarks.json keeps every run's), so a statement whose cost per call grows with the tables shows
  from run to run.
- **Single commands** (1): `POST /v1/centres/{c}/classes/{id}/enrolments`, one new person each (a unique
  national id), spread round-robin over the classes (4 per centre by default) and 10 organisations.
  *Closed loop*: a fixed number of requests in flight. *Open loop*: request i is due at start + i/rate and is sent
  then whether or not earlier ones have answered; its latency counts from that due time (no coordinated omission).
  The **end** of an enrolment is the commit of the notification consumer's transaction that wrote its row in
  `organisation_learners` (the commit timestamp of the row's `xmin`), so the poll interval does not enter the
  figure. Latency = that commit − request start (closed) or due time (open). Pipeline throughput = enrolments ÷
  (last such commit − first request). HTTP figures stop at the response.
- **Bulk** (2): the organisation's list goes into one class; the province's year opens the classes over its
  centres, enrols everyone, then records every score. Each phase runs from its first request until *every
  consumer has caught up*: no row left in any outbox, and every durable JetStream consumer at num_pending = 0
  and num_ack_pending = 0; its end is the last commit of any consumer's checkpoint (exact, as above).
  If the services have no batch endpoint yet, the single-command path is measured and the note says so.
- **Rebuild** (3): 1,000,000 LearnerEnrolled events are appended directly to an event store (COPY, not HTTP) in
  a database of its own; each run empties assessment's `class_learners` projection and a test consumer's
  checkpoints, then replays every event through `ttct.eventsourcing.consumer.ProjectionRunner.handle_batch` with assessment's
  own handler, in pages read by position (the next page is read while one applies). JetStream is not in this
  figure. The replay checks that every event was projected once and none arrived out of order.
- **Growth** (4): the single-command scenario with 1, 10 and 100 centres, first on the (almost) empty store,
  then after enrolment's event store was filled directly to the given size (history: no outbox rows, so the
  consumers do not see it). The store's actual size is given with each run. Its open loop offers 100
  enrolments/s, below what the system serves (the single-command scenario's closed loop): at a rate above it the
  open loop's p50 is the length of a growing queue, not a service time, and flatness could not be judged.
- **Peer** (5): the `eventsourcing` library with psycopg-binary and `POSTGRES_ENABLE_DB_FUNCTIONS=y` on the
  same PostgreSQL (own database). A class aggregate taking enrolments; each save stores one event of an aggregate
  held in memory; 1 and 8 threads, each thread with its own classes. Catch-up: the library's ProjectionRunner
  fills an empty class-learners view (one transaction per event with its tracking row) from every stored event,
  until `runner.wait()` sees the last one.
- **Console** (7): the console and the local OpenID Connect provider started beside the services (as `make run`
  does). 20 staff members of one centre at once (`--console-staff`), each with a browser of their own (an httpx
  client keeping cookies) that signs in the way a browser does (the console's `/sign-in`, the provider's page, its
  form posted, the redirects followed back to the console), then works on a class of their own of 60 learners
  with one session: `--console-rounds` rounds of the class list, the class's page, the session's attendance form,
  its save (every learner marked), the score grid and its save (every learner's score). A page's time is the
  server's: what the console's `Server-Timing` header says it took until its answer started (a page is rendered
  whole, and every call it makes to the services answered, before it is sent), the target's measure;
  `<page>_client_p95_ms` is the time from the request's start to its last byte as the client saw it (on loopback,
  so the server's time plus the load generator's own delay on the shared cores). A page's size is the HTML's,
  uncompressed. The saves answer 303 (the
  redirect is not followed: the page it leads to is measured as the form). Each figure is the p50 / p95 over
  every request of that page in the run; `worst_page_p95_ms` the highest p95, `largest_page_kb` the largest page.
  People read a page before they ask for the next: the target's run waits 2 s on average (1 to 3 s, drawn) on each
  page; the run without a pause sends each staff member's requests back to back (a stress test: 20 requests always
  in flight, what the two cores can serve).
- **Memory** (6): RSS of each service process and its children, sampled every 0.2 s through the whole run (psutil).
- Every scenario runs `repeats` times; the tables give the median, min and max of the per-run figures (a p99 row
  is the median of the runs' p99s).
"""


def unit(figure: str) -> str:
    for suffix, name in (("_per_s", "/s"), ("_ms", "ms"), ("_s", "s"), ("_count", ""), ("_mib", "MiB")):
        if figure.endswith(suffix):
            return name
    return ""


def summarise(results: dict) -> None:
    """Add median/min/max per figure of each scenario, the ratios to the peer, and the targets' verdicts."""
    for scenario in results["scenarios"].values():
        figures = sorted({k for run in scenario["runs"] for k in run})
        scenario["summary"] = {f: summary([run[f] for run in scenario["runs"] if f in run]) for f in figures}
    med = lambda s, f: results["scenarios"].get(s, {}).get("summary", {}).get(f, {}).get("median")  # noqa: E731
    ratios = {}
    single, peer8 = med("1 single commands", "closed_pipeline_per_s"), med("5 peer: saves, 8 threads", "saves_per_s")
    peer1 = med("5 peer: saves, 1 thread", "saves_per_s")
    rebuild, catch = med("3 rebuild", "rebuild_per_s"), med("5 peer: catch-up", "catchup_per_s")
    if single and peer8:
        ratios["single_vs_peer_saves_8_threads"] = round(single / peer8, 2)
    if single and peer1:
        ratios["single_vs_peer_saves_1_thread"] = round(single / peer1, 2)
    if rebuild and catch:
        ratios["rebuild_vs_peer_catchup"] = round(rebuild / catch, 2)
    results["ratios"] = ratios
    growth = {}  # per number of centres: the full store's figure ÷ the empty store's
    for name in results["scenarios"]:
        if name.startswith("4 growth:") and name.endswith("store empty"):
            prefix = name[: -len("store empty")]
            for other in results["scenarios"]:
                if other.startswith(prefix) and other != name:
                    for figure in ("closed_pipeline_per_s", "closed_to_projection_p99_ms", "open_to_projection_p99_ms",
                                   FLAT[0]):
                        empty, full = med(name, figure), med(other, figure)
                        if empty and full:
                            growth.setdefault(f"{other} ÷ empty", {})[figure] = round(full / empty, 2)
    growth_runs = sorted(n for n in results["scenarios"] if n.startswith("4 growth:") and n.endswith("store empty"))
    smallest = next(iter(sorted(growth_runs, key=lambda n: int(n.split()[2]))), None)
    for name in growth_runs:  # the province grows: n centres ÷ the fewest, both on the empty store
        if name != smallest and med(name, FLAT[0]) and med(smallest, FLAT[0]):
            growth.setdefault(f"{name} ÷ {smallest[len('4 growth: '):]}", {})[FLAT[0]] = round(
                med(name, FLAT[0]) / med(smallest, FLAT[0]), 2)
    results["growth_ratios"] = growth
    verdicts = []
    for name, figures in growth.items():
        if FLAT[0] in figures:
            verdicts.append({"target": f"latency flat: {name[len('4 growth: '):]}", "figure": FLAT[0],
                             "want": f"<= {FLAT[1]}", "value": figures[FLAT[0]],
                             "met": None if results.get("quick") else figures[FLAT[0]] <= FLAT[1]})
    for what, scenario, figure, op, threshold in TARGETS:
        value = ratios.get(figure) if scenario == "ratios" else med(scenario, figure)
        verdicts.append({"target": what, "figure": figure, "want": f"{op} {threshold}", "value": value,
                         "met": None if value is None or results.get("quick") else OPS[op](value, threshold)})
    for service, peak in results.get("rss_peak_bytes", {}).items():
        if service in ("scheduling", "enrolment", "assessment", "notification"):
            mib = round(peak / MIB, 1)
            verdicts.append({"target": f"{service} peak RSS", "figure": "rss_mib", "want": "< 200", "value": mib,
                             "met": mib < 200})
    results["targets"] = verdicts


def _fmt(v: float | None) -> str:
    if v is None:
        return "–"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.2f}" if abs(v) < 10 else f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}"
    return f"{int(v):,}"


def markdown(results: dict) -> str:
    m = results["machine"]
    pg = m.get("postgresql", {})
    lines = ["# Benchmarks", "",
             "Written by `make bench` (`python -m ttct_dev.bench`, tools/ttct_dev/bench/); do not edit by hand. "
             "Issue 6 holds the targets.", ""]
    if results.get("quick"):
        lines += ["> **Quick run** (`--quick`): small sizes, one run each. A smoke test of the harness, "
                  "not a measurement.", ""]
    lines += ["## Machine", "",
              f"- CPU: {m.get('cpu_model') or '?'}: {m.get('cores_logical')} logical cores "
              f"({m.get('cores_physical')} physical); memory {m.get('memory_gib')} GiB; {m.get('os')}",
              f"- Python {m.get('python')}; PostgreSQL {pg.get('server_version')} (fsync {pg.get('fsync')}, "
              f"synchronous_commit {pg.get('synchronous_commit')}, full_page_writes {pg.get('full_page_writes')}, "
              f"shared_buffers {pg.get('shared_buffers')}); NATS server {m.get('nats_server')}",
              "- Packages: " + ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items()),
              f"- Code: {m.get('git') or '?'}; started {m.get('started_at')}; load average at start "
              f"{m.get('load_average_at_start')}; {results['repeats']} run(s) per scenario; "
              f"took {results.get('seconds', 0) / 60:.1f} min",
              "- Tracing: " + (", ".join(f"{k}={v}" for k, v in m["tracing"].items() if v) or
                               "no exporter (the default): spans are made for HTTP and events but not for SQL "
                               "statements, and go nowhere") if "tracing" in m else "- Tracing: not recorded", ""]
    if results.get("earlier"):
        lines += ["Scenarios from an earlier run, kept (`--keep-others`): " + "; ".join(
            f"{name} (code {r.get('git')}, started {r.get('started_at')}, load average {r.get('load_average_at_start')})"
            for name, r in results["earlier"].items()), ""]
    lines += ["## Targets", "", "| target | figure | want | median | met |", "| --- | --- | --- | --- | --- |"]
    for t in results["targets"]:
        met = ("– (quick run: not the target's sizes)" if results.get("quick") else "–") if t["met"] is None \
            else "yes" if t["met"] else "**no**"
        lines.append(f"| {t['target']} | `{t['figure']}` | {t['want']} | {_fmt(t['value'])} | {met} |")
    if results.get("ratios"):
        lines += ["", "Ratios to the peer (medians): " + "; ".join(f"`{k}` = {v}" for k, v in results["ratios"].items())]
    if results.get("growth_ratios"):
        lines += ["", "Growth (the latency must not grow with the store): each figure with the full store ÷ the "
                  "same with the empty store, medians:", ""]
        for name, figures in results["growth_ratios"].items():
            lines.append(f"- {name[len('4 growth: '):]}: " + ", ".join(f"`{k}` {v}" for k, v in figures.items()))
    lines += ["", "## Results", ""]
    for name, scenario in sorted(results["scenarios"].items(), key=lambda kv: kv[0][:1]):  # stable: run order
        lines += [f"### {name}", ""]
        for note in scenario.get("notes", []):
            lines.append(f"> {note}")
        if scenario.get("notes"):
            lines.append("")
        if scenario.get("error"):
            lines += [f"**Failed**: `{scenario['error']}`", ""]
        if not scenario.get("summary"):
            continue
        lines += ["| figure | unit | median | min | max |", "| --- | --- | ---: | ---: | ---: |"]
        for figure, s in scenario["summary"].items():
            lines.append(f"| `{figure}` | {unit(figure)} | {_fmt(s.get('median'))} | {_fmt(s.get('min'))} | "
                         f"{_fmt(s.get('max'))} |")
        lines.append("")
        lines += _statements(scenario.get("statements") or [])
    rss, cpu = results.get("rss_peak_bytes", {}), results.get("cpu_seconds", {})
    procs = list(rss) + ["bench (load generator)"]
    lines += ["## Memory and CPU", "", "| | " + " | ".join(procs) + " |", "| --- |" + " ---: |" * len(procs),
              "| **peak RSS (MiB)** | " + " | ".join(f"{rss[p] / MIB:,.0f}" if p in rss else "–" for p in procs) + " |"]
    for name, used in cpu.items():
        lines.append(f"| CPU s: {name} | " + " | ".join(f"{used.get(p, 0.0):,.1f}" for p in procs) + " |")
    lines += ["", "PostgreSQL's and NATS's RSS include shared memory pages each backend touched, counted per "
              "process; read them as an upper bound.", "", "## How each figure is taken", "", METHOD]
    if results.get("options"):
        lines += ["## Options of this run", "", "```", json.dumps(results["options"], indent=1), "```", ""]
    return "\n".join(lines)


def _statements(runs: list[list[dict]], top: int = 5) -> list[str]:
    """Where PostgreSQL's time went in the scenario's last run (pg_stat_statements): a statement whose cost per
    call grows from run to run is one that reads more as the tables grow (the JSON keeps every run's)."""
    if not runs or not runs[-1]:
        return []
    lines = [f"PostgreSQL's costliest statements in the last run (of {len(runs)}):", "",
             "| database | calls | total s | mean ms | blocks/call | statement |",
             "| --- | ---: | ---: | ---: | ---: | --- |"]
    for st in runs[-1][:top]:
        text = st["query"][:110].replace("|", "\\|")
        lines.append(f"| {st['database']} | {st['calls']:,} | {st['total_s']:,} | {st['mean_ms']:,} | "
                     f"{st['blocks_per_call']:,} | `{text}…` |")
    return [*lines, ""]


def keep_others(results: dict, out_dir: Path) -> None:
    """Bring the scenarios this run did not run over from `out_dir`'s benchmarks.json, each marked with the run it
    came from (its code and start), so that one scenario can be measured again without losing the others."""
    previous_file = out_dir / "benchmarks.json"
    if not previous_file.exists():
        return
    previous = json.loads(previous_file.read_text())
    when = {k: previous.get("machine", {}).get(k) for k in ("git", "started_at", "load_average_at_start")}
    for name, scenario in previous.get("scenarios", {}).items():
        if name not in results["scenarios"]:
            results["scenarios"][name] = scenario
            results.setdefault("earlier", {})[name] = scenario.get("from_run", when)
            if name in previous.get("cpu_seconds", {}):
                results["cpu_seconds"][name] = previous["cpu_seconds"][name]
    # A process this run watched has this run's peak (the code measured now, not the highest ever recorded); only
    # processes that ran in the kept scenarios alone (the console's) keep theirs.
    for process, peak in previous.get("rss_peak_bytes", {}).items():
        results["rss_peak_bytes"].setdefault(process, peak)
    for scenario, run in results.get("earlier", {}).items():
        results["scenarios"][scenario]["from_run"] = run
    summarise(results)


def write(results: dict, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js = out_dir / "benchmarks.md", out_dir / "benchmarks.json"
    js.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str) + "\n")
    md.write_text(markdown(results))
    return md, js
