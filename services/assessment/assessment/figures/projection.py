"""How the figure tables are kept up to date as events happen, with no consumer or stream of their own:

- scheduling's and enrolment's events: the figure handlers are chained after the facts handlers on assessment's
  existing durable consumers, so they run in the same transaction and under the same checkpoint (applied once,
  in order per aggregate, dead-lettered together);
- assessment's own LearnerResultFinalised: the service's event store is wrapped so that every append also
  projects the figures of what it appends, in the appending transaction (finalisation and re-sits append through
  service_layer/together.py's `commit`, inside one transaction): the figures change exactly when the results do.
"""
from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from ttct.contracts import DomainEvent, Envelope, read_event
from ttct.eventsourcing.consumer import Applied, Handler, batched, is_batched
from ttct.eventsourcing.eventstore import EventStore

from assessment.figures import tables

Projections = dict[str, dict[type[DomainEvent], Handler]]


def _as_run(handler):
    """A handler as a batched one (a per-event handler called for each event of the run, in order)."""
    if is_batched(handler):
        return handler

    async def each(conn: asyncpg.Connection, items: Sequence[Applied]) -> None:
        for envelope, event in items:
            await handler(conn, envelope, event)

    return each


def _both(first, then):
    if not (is_batched(first) or is_batched(then)):
        async def both(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
            await first(conn, envelope, event)
            await then(conn, envelope, event)

        return both
    first_run, then_run = _as_run(first), _as_run(then)

    @batched
    async def both_runs(conn: asyncpg.Connection, items: Sequence[Applied]) -> None:
        await first_run(conn, items)
        await then_run(conn, items)

    return both_runs


def chained(projections: Projections) -> Projections:
    """The service's consumer handlers with the figure handlers of the streams it reads run after them. One pair
    of handlers gives one chained handler, so event types that shared a batched handler still share one (their
    runs join)."""
    out = {context: dict(handlers) for context, handlers in projections.items()}
    made: dict[tuple[int, int], object] = {}
    for context in projections:
        for event_type, figure in tables.HANDLERS.get(context, {}).items():
            first = out[context].get(event_type)
            if first is None:
                out[context][event_type] = figure
                continue
            pair = (id(first), id(figure))
            if pair not in made:
                made[pair] = _both(first, figure)
            out[context][event_type] = made[pair]
    return out


async def project_own(conn: asyncpg.Connection, envelopes: Sequence[Envelope]) -> None:
    """The figures of assessment's own events, runs of one handler at once. An event that changes no figure does
    not end a run (it touches no figure table), so a class's finalisation is one run however its events
    interleave."""
    handlers = tables.HANDLERS["assessment"]
    run: list[tuple[Envelope, DomainEvent]] = []
    for envelope in envelopes:
        if envelope.event_type not in tables.EVENT_TYPES["assessment"]:
            continue
        event = read_event(envelope)
        if run and handlers[type(event)] is not handlers[type(run[0][1])]:
            await _as_run(handlers[type(run[0][1])])(conn, run)
            run = []
        run.append((envelope, event))
    if run:
        await _as_run(handlers[type(run[0][1])])(conn, run)


class Projecting:
    """The event store, also projecting the figures of the events appended, in the appending transaction; every
    other call goes to the store as it is."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    async def append(self, envelopes: Sequence[Envelope], expected_version: int, *,
                     conn: asyncpg.Connection | None = None) -> None:
        if conn is not None:
            await self._store.append(envelopes, expected_version, conn=conn)
            await project_own(conn, envelopes)
            return
        async with self._store.transaction() as own:
            await self._store.append(envelopes, expected_version, conn=own)
            await project_own(own, envelopes)

    async def append_streams(self, writes: Sequence[tuple[Sequence[Envelope], int]], *,
                             conn: asyncpg.Connection) -> None:
        await self._store.append_streams(writes, conn=conn)
        await project_own(conn, [e for envelopes, _version in writes for e in envelopes])
