"""Do a service's projections equal a rebuild? Snapshot the tables `ttct.admin <service> rebuild` resets, rebuild
(the operator's atomic rebuild, from the streams), wait until the service has caught up, snapshot again and compare
row by row, keyed by each table's primary key, in no particular order. Any difference means the live consumers
built something a replay of the same events does not: an event applied twice, out of order, or not at all.

    python -m ttct_dev.faults.rebuilt <service>     # with the service's environment; prints one JSON object

The comparison (`snapshot`, `compare`) is usable on its own against any database; `rebuild_and_compare` is what
the faults harness runs for each reading service after each fault (ttct_dev.faults.checks.rebuild_matches).
"""
from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg

Row = dict[str, Any]
Snapshot = dict[str, dict[tuple, Row]]
"""table -> primary key (its columns' values, in key order) -> the row's other compared columns."""

IGNORED: Mapping[str, frozenset[str]] = {}
"""Columns of a projection table left out of the comparison, each because a rebuild may legitimately change it.
None today: every timestamp in these tables is the event's `occurred_at` (the handlers never call now()), names
are opened from the same sealed copies with the same keys, and ids come from the events. A column written with
now() or a sequence at apply time belongs here, with the reason beside it."""


@dataclass(frozen=True)
class Difference:
    table: str
    key: str  # the primary key's columns and values, e.g. "class_id=…, learner_id=…"
    before: Row | None  # the live projection's row (None: no such row before the rebuild)
    after: Row | None  # the rebuilt one (None: the rebuild made no such row)

    def __str__(self) -> str:
        return f"{self.table} [{self.key}]: before {_short(self.before)}, after rebuild {_short(self.after)}"


def _short(row: Row | None) -> str:
    return "no row" if row is None else json.dumps(row, default=str, ensure_ascii=False, sort_keys=True)[:300]


def tables_reset(projection_tables: Iterable[str]) -> list[str]:
    """The tables named by a service's `projection_tables`: a table's name, or a statement that resets part of one
    (assessment keeps its own decisions in a facts table and resets the rest with DELETE and UPDATE)."""
    found: list[str] = []
    for entry in projection_tables:
        match = re.search(r'\b(?:FROM|UPDATE|TRUNCATE)\s+"?(\w+)', entry, re.IGNORECASE) if " " in entry else None
        table = match.group(1) if match else entry
        if table not in found:
            found.append(table)
    return found


async def _key_columns(conn: asyncpg.Connection, table: str) -> list[str]:
    return [r["attname"] for r in await conn.fetch(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)"
        " WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
        table)]


def _comparable(value: Any) -> Any:
    # jsonb comes back as text: compare what it says, not how its keys happen to be ordered
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def snapshot(conn: asyncpg.Connection, tables: Sequence[str],
                   ignored: Mapping[str, frozenset[str]] = IGNORED) -> Snapshot:
    """Every row of `tables` on `conn` (whose row security, if any, the caller has opened to every centre)."""
    taken: Snapshot = {}
    for table in tables:
        key = await _key_columns(conn, table)
        rows: dict[tuple, Row] = {}
        seen: Counter = Counter()
        for record in await conn.fetch(f'SELECT * FROM "{table}"'):
            row = {k: _comparable(v) for k, v in record.items() if k not in ignored.get(table, ())}
            if key:
                rows[tuple((k, row.pop(k)) for k in key)] = row
            else:  # no primary key: a row is its own key, and how many times it occurs is what is compared
                whole = tuple(sorted((k, json.dumps(v, default=str, sort_keys=True)) for k, v in row.items()))
                seen[whole] += 1
                rows[whole] = {"copies": seen[whole]}
        taken[table] = rows
    return taken


def compare(before: Snapshot, after: Snapshot) -> list[Difference]:
    """Every row that differs, is only before, or only after, table by table."""
    differences = []
    for table in sorted(before.keys() | after.keys()):
        old, new = before.get(table, {}), after.get(table, {})
        for key in sorted(old.keys() | new.keys(), key=str):
            if old.get(key) != new.get(key):
                differences.append(Difference(table, ", ".join(f"{k}={v}" for k, v in key),
                                              old.get(key), new.get(key)))
    return differences


async def _settled(conn: asyncpg.Connection, tables: Sequence[str], *, quiet: float = 1.0,
                   timeout: float = 30.0) -> Snapshot:
    """The projections once the service has caught up after the rebuild: the live consumers carry on from the
    rebuilt checkpoints (what they then receive again are duplicates, which change nothing), so the tables stop
    changing; two snapshots `quiet` s apart that agree are taken as caught up."""
    deadline = time.monotonic() + timeout
    last = await snapshot(conn, tables)
    while True:
        await asyncio.sleep(quiet)
        now = await snapshot(conn, tables)
        if now == last or time.monotonic() > deadline:
            return now
        last = now


async def rebuild_and_compare(service: str) -> dict[str, Any]:
    """The service's projections before and after `ttct.admin <service> rebuild`, compared."""
    from ttct.admin.commands import rebuild, runtime_of
    from ttct.privacy import tenancy

    runtime = runtime_of(service)
    tables = tables_reset(runtime.projection_tables)
    conn = await asyncpg.connect(runtime.settings.database_url)
    try:
        await tenancy.every_row(conn)
        before = await snapshot(conn, tables)
        said = await rebuild(runtime)
        after = await _settled(conn, tables)
    finally:
        await conn.close()
    return {"service": service, "tables": {t: len(before[t]) for t in tables}, "rebuild": said,
            "differences": [asdict(d) | {"text": str(d)} for d in compare(before, after)]}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(rebuild_and_compare(sys.argv[1])), default=str, ensure_ascii=False))
