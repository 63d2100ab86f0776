from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

from ttct_dev.faults import __doc__ as DOC
from ttct_dev.faults import report
from ttct_dev.faults.harness import Figures
from ttct_dev.faults.scenarios import SCENARIOS


async def run(numbers: list[int], root: Path, *, rate: float, quick: bool) -> list[Figures]:
    done = []
    for n in numbers:
        print(f"scenario {n}: {SCENARIOS[n].__doc__.splitlines()[0]}", flush=True)
        started = time.monotonic()
        try:
            figures = await SCENARIOS[n](root, rate=rate, quick=quick)
        except Exception as exc:  # one scenario's harness failure must not hide the others' figures
            traceback.print_exc()
            figures = Figures(f"{n}. failed", SCENARIOS[n].__doc__.splitlines()[0], problems=[repr(exc)])
        print(f"scenario {n}: {'held' if figures.ok else 'FAILED'} in {time.monotonic() - started:.0f} s; "
              f"lost {figures.lost}, doubled {figures.doubled}; {'; '.join(figures.problems[:5])}", flush=True)
        done.append(figures)
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=DOC, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter load around each fault")
    parser.add_argument("--only", help="comma-separated scenario numbers, e.g. 1,3")
    parser.add_argument("--rate", type=float, default=3.0, help="learner flows a second (3 commands each)")
    parser.add_argument("--out", type=Path, default=Path("docs/reliability.md"))
    parser.add_argument("--keep", type=Path, help="keep the stacks and the services' logs in this directory")
    args = parser.parse_args()
    # SIGTERM (a timeout, Ctrl-C's cousin) stops the scenario through its clean-up: no servers left running
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    numbers = [int(n) for n in args.only.split(",")] if args.only else sorted(SCENARIOS)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ttct-faults-") as tmp:
        root = args.keep or Path(tmp)
        figures = asyncio.run(run(numbers, root, rate=args.rate, quick=args.quick))
    report.write(args.out, figures, quick=args.quick, rate=args.rate, wall=time.monotonic() - started)
    print(f"figures in {args.out}")
    sys.exit(0 if all(f.ok for f in figures) else 1)


if __name__ == "__main__":
    main()
