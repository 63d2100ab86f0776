"""`make bench` (issue 6): the system's speed at province scale, measured on a private durable stack with all four
services running, beside the `eventsourcing` library (the peer) on the same PostgreSQL.

    python -m ttct_dev.bench            # every scenario at the issue's sizes, 3 runs each
    python -m ttct_dev.bench --quick    # small sizes, 1 run: a smoke test of the harness, not a measurement

Writes docs/benchmarks.md and docs/benchmarks.json (or under --output-dir). How each figure is taken is written
into the report itself (`METHOD` in report.py), so a reader of the numbers never has to read this code.
"""
