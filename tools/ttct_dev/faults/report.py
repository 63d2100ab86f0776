"""docs/reliability.md: the figures of the last `make faults` run, one row per scenario."""
from __future__ import annotations

import platform
from datetime import UTC, datetime
from pathlib import Path

from ttct_dev.faults.harness import Figures


def _s(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


def write(path: Path, figures: list[Figures], *, quick: bool, rate: float, wall: float) -> None:
    lines = [
        "# Reliability under faults",
        "",
        "Written by `make faults` (`python -m ttct_dev.faults`; tools/ttct_dev/faults/) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {_cpus()} CPUs"
        f"{', --quick' if quick else ''}; {rate:g} learner flows a second offered (an enrolment, an attendance "
        f"mark and a score each, and a new class with its session every 25 flows), all scenarios in {wall:.0f} s.",
        "",
        "Columns: *offered* and *held* are commands a second sent and answered 2xx over the load's duration; "
        "*accepted* the commands answered 2xx; *5xx answers* the attempts answered 503 (each retried after its "
        "Retry-After with the same Idempotency-Key); *given up* the commands never answered 2xx within the client's "
        "120 s; *recover* the seconds from the fault's end (for a kill: from the kill) until every commanded "
        "service answered 2xx again; *settled* the seconds from the load's end until `ttct.admin verify` found "
        "everything in place; *lost* commands answered 2xx missing from the store, or notices never delivered; "
        "*doubled* events stored twice or notices delivered under two webhook-ids; *rebuild* the reading services' "
        "projection rows (enrolment, assessment, notification) compared with `ttct.admin <service> rebuild` of them "
        "once everything settled, and how many differed from their rebuild, were missing or extra "
        "(ttct_dev.faults.rebuilt).",
        "",
        "| scenario | fault | load s | offered /s | held /s | accepted | 5xx answers | given up | recover s "
        "| settled s | lost | doubled | rebuild: rows, differing | held? |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        lines.append(f"| {f.scenario} | {f.fault} | {f.seconds:.0f} | {f.offered} | {f.held} | {f.accepted} "
                     f"| {f.refused} | {f.given_up} | {_s(f.recover)} | {_s(f.settled)} | {f.lost} | {f.doubled} "
                     f"| {_rebuild(f)} | {'yes' if f.ok else 'NO'} |")
    lines += ["", "## Notes per scenario", ""]
    for f in figures:
        lines.append(f"- **{f.scenario}**: " + "; ".join(f.notes + [f"{f.connection_errors} connection errors "
                                                                   f"(retried on another replica)"]
                                                        + ([f"{f.answers_lost} answers lost (409, work done)"]
                                                           if f.answers_lost else [])))
        for problem in f.problems:
            lines.append(f"  - problem: {problem}")
    path.write_text("\n".join(lines) + "\n")


def _rebuild(f: Figures) -> str:
    return "not compared" if f.rebuilt_rows is None else f"{f.rebuilt_rows}, {f.rebuild_differences}"


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))
