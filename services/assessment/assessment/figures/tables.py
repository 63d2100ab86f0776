"""The figure tables: one row per class, per place (a learner in a class) and per final result, kept from the
events that make them, and the grouped counts read back from them.

Rows, not counters: every handler is an order-independent upsert (ClassOpened and ClassCancelled only ever set
their flag; a place and a result keep the latest event by (occurred_at, stream_version)), so applying an event
twice, or two streams' events in any order, or an event both by a rebuild and by the live path, leaves the same
rows. The counts are GROUP BYs over a centre's or the province's year: a year of a centre is ~6,500 places, of a
province ~200,000.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from ttct.contracts import ClassOpened, DomainEvent, Envelope, LearnerEnrolled
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.contracts.learner_result_finalised import LearnerResultFinalised
from ttct.contracts.learner_withdrawn import LearnerWithdrawn
from ttct.contracts.organisation_dissolved import OrganisationDissolved
from ttct.contracts.organisations_merged import OrganisationsMerged
from ttct.eventsourcing.consumer import batched, is_batched, rounds

from assessment.figures import maps

TABLES = ("figure_classes", "figure_places", "figure_results", "figure_successions")

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS figure_classes (
        class_id       uuid PRIMARY KEY,
        centre         text NOT NULL,
        year           integer,
        programme_type text,
        opened         boolean NOT NULL DEFAULT false,
        cancelled      boolean NOT NULL DEFAULT false
    )
    """,
    "CREATE INDEX IF NOT EXISTS figure_classes_by_year ON figure_classes (year, centre)",
    """
    CREATE TABLE IF NOT EXISTS figure_places (
        class_id          uuid NOT NULL,
        learner_id        uuid NOT NULL,
        organisation_code text NOT NULL,
        organisation_name text NOT NULL,
        enrolled          boolean NOT NULL,
        changed_at        timestamptz NOT NULL,
        changed_version   integer NOT NULL,
        PRIMARY KEY (class_id, learner_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS figure_results (
        class_id          uuid NOT NULL,
        learner_id        uuid NOT NULL,
        organisation_code text NOT NULL,
        organisation_name text NOT NULL,
        eligible          boolean NOT NULL,
        passed            boolean NOT NULL,
        grade_band        text,
        changed_at        timestamptz NOT NULL,
        changed_version   integer NOT NULL,
        PRIMARY KEY (class_id, learner_id)
    )
    """,
    *maps.SCHEMA,
    # attendance of the finalised learners (LearnerResultFinalised's counts): the year's attendance rate; rows
    # written before these columns count no session until `python -m assessment.figures rebuild`
    "ALTER TABLE figure_results ADD COLUMN IF NOT EXISTS sessions_attended integer NOT NULL DEFAULT 0",
    "ALTER TABLE figure_results ADD COLUMN IF NOT EXISTS sessions_counted integer NOT NULL DEFAULT 0",
]


async def on_class_opened(conn: asyncpg.Connection, envelope: Envelope, event: ClassOpened) -> None:
    await conn.execute(
        "INSERT INTO figure_classes (class_id, centre, year, programme_type, opened) VALUES ($1, $2, $3, $4, true)"
        " ON CONFLICT (class_id) DO UPDATE SET year = excluded.year, programme_type = excluded.programme_type,"
        " opened = true",
        event.class_id, envelope.centre, event.starts_on.year, str(event.programme_type))


async def on_class_cancelled(conn: asyncpg.Connection, envelope: Envelope, event: ClassCancelled) -> None:
    await conn.execute("INSERT INTO figure_classes (class_id, centre, cancelled) VALUES ($1, $2, true)"
                       " ON CONFLICT (class_id) DO UPDATE SET cancelled = true", event.class_id, envelope.centre)


# A run of places in one statement, from arrays (one element per event of a round).
_PLACES_RUN = """
INSERT INTO figure_places
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::bool[], $6::timestamptz[], $7::int[])
ON CONFLICT (class_id, learner_id) DO UPDATE SET organisation_code = excluded.organisation_code,
    organisation_name = excluded.organisation_name, enrolled = excluded.enrolled,
    changed_at = excluded.changed_at, changed_version = excluded.changed_version
WHERE (figure_places.changed_at, figure_places.changed_version) <= (excluded.changed_at, excluded.changed_version)
"""


@batched
async def on_places(conn: asyncpg.Connection,
                    items: Sequence[tuple[Envelope, LearnerEnrolled | LearnerWithdrawn]]) -> None:
    """A run of enrolments and withdrawals: one statement per round, the same as applying them one by one."""
    for part in rounds(items, key=lambda item: (item[1].class_id, item[1].learner_id)):
        await conn.execute(
            _PLACES_RUN, [e.class_id for _, e in part], [e.learner_id for _, e in part],
            [e.sending_organisation.code for _, e in part], [e.sending_organisation.name for _, e in part],
            [isinstance(e, LearnerEnrolled) for _, e in part], [env.occurred_at for env, _ in part],
            [env.stream_version for env, _ in part])


_RESULT = """
INSERT INTO figure_results (class_id, learner_id, organisation_code, organisation_name, eligible, passed,
                            grade_band, changed_at, changed_version, sessions_attended, sessions_counted)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (class_id, learner_id) DO UPDATE SET organisation_code = excluded.organisation_code,
    organisation_name = excluded.organisation_name, eligible = excluded.eligible, passed = excluded.passed,
    grade_band = excluded.grade_band, changed_at = excluded.changed_at,
    changed_version = excluded.changed_version, sessions_attended = excluded.sessions_attended,
    sessions_counted = excluded.sessions_counted
WHERE (figure_results.changed_at, figure_results.changed_version)
      <= (excluded.changed_at, excluded.changed_version)
"""


@batched
async def on_results_finalised(conn: asyncpg.Connection,
                               items: Sequence[tuple[Envelope, LearnerResultFinalised]]) -> None:
    """A class's final results (finalising a class appends one per learner): one pipelined statement, row by row
    in their order, the same as applying them one by one."""
    await conn.executemany(_RESULT, [
        (event.class_id, event.learner_id, event.sending_organisation.code, event.sending_organisation.name,
         event.eligible, event.passed, event.grade_band.value if event.grade_band else None, envelope.occurred_at,
         envelope.stream_version, event.sessions_attended, event.sessions_counted) for envelope, event in items])


Handler = Callable[[asyncpg.Connection, Envelope, Any], Awaitable[None]]

# by the context that publishes them
HANDLERS: dict[str, dict[type[DomainEvent], Handler]] = {
    "scheduling": {ClassOpened: on_class_opened, ClassCancelled: on_class_cancelled},
    "enrolment": {LearnerEnrolled: on_places, LearnerWithdrawn: on_places, OrganisationsMerged: maps.on_succession,
                  OrganisationDissolved: maps.on_succession},
    "assessment": {LearnerResultFinalised: on_results_finalised},
}
EVENT_TYPES = {context: [t.event_type for t in handlers] for context, handlers in HANDLERS.items()}


async def apply(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
    handler = HANDLERS.get(type(event).context, {}).get(type(event))
    if handler is not None and is_batched(handler):
        await handler(conn, [(envelope, event)])
    elif handler is not None:
        await handler(conn, envelope, event)


# ---- reading back: grouped counts for one year, of one centre or the whole province ----

_CLASSES = """
SELECT centre, programme_type, count(*) FILTER (WHERE NOT cancelled) AS classes,
       count(*) FILTER (WHERE cancelled) AS cancelled_classes
FROM figure_classes WHERE opened AND year = $1 AND ($2::text IS NULL OR centre = $2)
GROUP BY centre, programme_type
"""
_PLACES = """
SELECT c.centre, c.programme_type, p.organisation_code, max(p.organisation_name) AS organisation_name,
       count(*) AS places
FROM figure_places p JOIN figure_classes c USING (class_id)
WHERE p.enrolled AND c.opened AND NOT c.cancelled AND c.year = $1 AND ($2::text IS NULL OR c.centre = $2)
GROUP BY c.centre, c.programme_type, p.organisation_code
"""
_RESULTS = """
SELECT c.centre, c.programme_type, r.organisation_code, max(r.organisation_name) AS organisation_name,
       r.eligible, r.passed, r.grade_band, count(*) AS learners,
       sum(r.sessions_attended)::int AS sessions_attended, sum(r.sessions_counted)::int AS sessions_counted
FROM figure_results r JOIN figure_classes c USING (class_id)
WHERE c.opened AND NOT c.cancelled AND c.year = $1 AND ($2::text IS NULL OR c.centre = $2)
GROUP BY c.centre, c.programme_type, r.organisation_code, r.eligible, r.passed, r.grade_band
"""


async def counts(db: asyncpg.Pool | asyncpg.Connection, year: int, centre: str | None) -> dict[str, list[dict]]:
    """The year's grouped rows (of `centre`, or of the whole province when None) for `tally.figures`."""
    return {name: [dict(r) for r in await db.fetch(sql, year, centre)]
            for name, sql in (("classes", _CLASSES), ("places", _PLACES), ("results", _RESULTS))}


async def snapshot(db: asyncpg.Pool | asyncpg.Connection) -> dict[str, list[tuple]]:
    """Every figure row, in a stable order (what a rebuild must reproduce)."""
    out = {}
    for table in TABLES:
        rows = await db.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")
        out[table] = [tuple(r.values()) for r in rows]
    return out
