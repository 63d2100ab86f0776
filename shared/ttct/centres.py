"""The province's register of centres as every service keeps it: each centre's names over time and who succeeded
whom, projected from enrolment's CentreRegistered, CentreRenamed and CentresMerged into two tables of the
service's own database (`SCHEMA`, `HANDLERS`; enrolment writes them with its own appends, the others on their
ENROLMENT consumer, and `ttct.admin <service> rebuild` empties and refills them with `TABLES`).

What they answer:
- a centre's name on a day (`names_on`, `on_paper`): a certificate says which centre issued it by the name it had
  that day, and a paper's heading names the centre as registered on the paper's date; a centre never registered
  has none here, and its readers fall back to the deployment's `CENTRES` setting;
- who stands for a centre today (`Register.in_force`): the access check (ttct.http.auth) lets the successor's
  staff reach the predecessors' classes, and refuses a token naming only a centre merged away.

The access check reads the database, not a replica's memory, so every replica of a service answers alike and a
rebuild changes nothing it says; each replica keeps the answer for a second (`Register.TTL`), as a succession
takes effect on a date and an HTTP request should not cost a second round trip.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from ttct.contracts import DomainEvent, Envelope
from ttct.contracts.centre_registered import CentreRegistered
from ttct.contracts.centre_renamed import CentreRenamed
from ttct.contracts.centres_merged import CentresMerged
from ttct.domain.errors import Invalid
from ttct.papers.labels import local_day
from ttct.papers.settings import CentreProfile

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS centre_names (
        code        text NOT NULL,
        valid_from  date NOT NULL,
        name        text NOT NULL,
        address     text,
        parent_body text,
        PRIMARY KEY (code, valid_from)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS centre_successions (
        predecessor_code text PRIMARY KEY,
        successor_code   text NOT NULL,
        successor_name   text NOT NULL,
        kind             text NOT NULL CHECK (kind IN ('merged', 'site')),
        effective_on     date NOT NULL,
        decision         jsonb NOT NULL
    )
    """,
]
TABLES = ("centre_names", "centre_successions")
"""What a rebuild empties before the events fill them again."""


async def project(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
    """Idempotent: a redelivered or replayed event writes the same rows again."""
    if isinstance(event, CentreRegistered):
        await conn.execute(
            "INSERT INTO centre_names VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code, valid_from) DO UPDATE"
            " SET name = excluded.name, address = excluded.address, parent_body = excluded.parent_body",
            event.code, event.effective_on, event.name, event.address, event.parent_body)
    elif isinstance(event, CentreRenamed):
        # the address and the parent body stay what the latest earlier row says
        await conn.execute(
            "INSERT INTO centre_names SELECT $1, $2, $3, e.address, e.parent_body FROM (SELECT 1) AS one"
            " LEFT JOIN LATERAL (SELECT address, parent_body FROM centre_names WHERE code = $1 AND valid_from < $2"
            " ORDER BY valid_from DESC LIMIT 1) AS e ON true"
            " ON CONFLICT (code, valid_from) DO UPDATE SET name = excluded.name",
            event.code, event.effective_on, event.name)
    elif isinstance(event, CentresMerged):
        await conn.execute(
            "INSERT INTO centre_successions SELECT p, $2, $3, $4, $5, $6::jsonb FROM unnest($1::text[]) AS p"
            " ON CONFLICT (predecessor_code) DO NOTHING",
            event.predecessor_codes, event.successor_code, event.successor_name, event.kind, event.effective_on,
            json.dumps(event.decision.model_dump(mode="json"), ensure_ascii=False))


HANDLERS = {CentreRegistered: project, CentreRenamed: project, CentresMerged: project}
"""For a consumer of the ENROLMENT stream: `{"enrolment": {**its own, **HANDLERS}}`."""


async def names_on(db: asyncpg.Pool | asyncpg.Connection, wanted: list[tuple[str, date]]) -> dict[tuple[str, date], str]:
    """(code, day) -> the centre's registered name that day, for the registered centres (the earliest name for a
    day before its registration: the centre had a name before it was entered)."""
    if not wanted:
        return {}
    rows = await db.fetch(
        "SELECT w.code, w.day, (SELECT n.name FROM centre_names n WHERE n.code = w.code"
        "  ORDER BY n.valid_from <= w.day DESC, CASE WHEN n.valid_from <= w.day THEN n.valid_from END DESC,"
        "  n.valid_from LIMIT 1) AS name"
        " FROM unnest($1::text[], $2::date[]) AS w(code, day)",
        [c for c, _ in wanted], [d for _, d in wanted])
    return {(r["code"], r["day"]): r["name"] for r in rows if r["name"] is not None}


async def name_on(db: asyncpg.Pool | asyncpg.Connection, code: str, day: date) -> str | None:
    return (await names_on(db, [(code, day)])).get((code, day))


@dataclass(frozen=True)
class Succession:
    """Who a centre's code stands for on a day, followed to the end of a chain of merges."""

    code: str
    successor_code: str
    successor_name: str
    kind: str  # of the centre's own succession: merged (gone) or site (carries on as the successor's site)
    effective_on: date


_CHAIN = """
WITH RECURSIVE chain AS (
    SELECT predecessor_code AS code, successor_code, successor_name, kind, effective_on, 1 AS depth
    FROM centre_successions WHERE effective_on <= $1
    UNION ALL
    SELECT c.code, s.successor_code, s.successor_name, c.kind, c.effective_on, c.depth + 1
    FROM chain c JOIN centre_successions s ON s.predecessor_code = c.successor_code
    WHERE s.effective_on <= $1 AND c.depth < 20
)
SELECT DISTINCT ON (code) code, successor_code, successor_name, kind, effective_on FROM chain
ORDER BY code, depth DESC
"""


async def successions(db: asyncpg.Pool | asyncpg.Connection, on: date) -> dict[str, Succession]:
    """Every centre merged by `on` (or made a site) -> whom it is part of on `on`."""
    return {r["code"]: Succession(**r) for r in await db.fetch(_CHAIN, on)}


def check_opens_classes(code: str, found: Mapping[str, Succession]) -> None:
    """A centre merged away (not made a site) opens no new class from the merge's day: its successor carries on its
    work under its own code. 422 centre-merged naming the successor. Its classes opened before run to their end."""
    s = found.get(code)
    if s is not None and s.kind == "merged":
        raise Invalid(f"centre {code} was merged into {s.successor_code} ({s.successor_name}) from {s.effective_on}: "
                      f"open the class under {s.successor_code}",
                      f"Trung tâm {code} đã được sáp nhập vào {s.successor_name} ({s.successor_code}) từ ngày "
                      f"{s.effective_on:%d/%m/%Y}: hãy mở lớp dưới mã {s.successor_code}", code="centre-merged",
                      successor_code=s.successor_code)


async def predecessors(db: asyncpg.Pool | asyncpg.Connection, code: str, on: date) -> list[str]:
    """The centres merged into `code` (or made its sites) by `on`, through chains too."""
    return sorted(c for c, s in (await successions(db, on)).items() if s.successor_code == code)


class Register:
    """The successions in force today, for the access check of every request (ttct.http.auth.principal)."""

    TTL = 1.0

    def __init__(self, pool: Callable[[], asyncpg.Pool], today: Callable[[], date]) -> None:
        self._pool, self._today = pool, today
        self._known: tuple[float, date, Mapping[str, Succession]] | None = None

    async def in_force(self) -> Mapping[str, Succession]:
        today, now = self._today(), time.monotonic()
        if self._known is not None and self._known[0] > now and self._known[1] == today:
            return self._known[2]
        found = await successions(self._pool(), today)
        self._known = (now + self.TTL, today, found)
        return found


def local_today(clock: Callable[[], datetime]) -> Callable[[], date]:
    return lambda: local_day(clock())


async def on_paper(db: asyncpg.Pool | asyncpg.Connection, profile: CentreProfile, code: str, on: date) -> CentreProfile:
    """The centre as a paper dated `on` names it: the register's name that day over the `CENTRES` setting's (and
    the register's parent body, when the setting names no superior); the setting's profile alone for a centre
    never registered."""
    row = await db.fetchrow(
        "SELECT name, parent_body FROM centre_names WHERE code = $1"
        " ORDER BY valid_from <= $2 DESC, CASE WHEN valid_from <= $2 THEN valid_from END DESC, valid_from LIMIT 1",
        code, on)
    if row is None:
        return profile
    return profile.model_copy(update={"name": row["name"], "superior": profile.superior or row["parent_body"]})
