"""Appending to several streams in one transaction: a decision that spans aggregates (finalising a class issues
certificates; a re-sit changes a score, a result and certificates) is stored whole or not at all. Each stream is
appended at the version its state was decided on, so a concurrent writer to any of them makes the whole decision
a ConcurrencyConflict, and the caller decides again on fresh state."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

from ttct.contracts import DomainEvent, Envelope, EventMetadata
from ttct.eventsourcing.aggregates import Project
from ttct.eventsourcing.eventstore import ConcurrencyConflict, EventStore, make_envelopes

ATTEMPTS = 5


async def commit(store: EventStore, decision: dict[str, list[DomainEvent]], versions: dict[str, int],
                 metadata: EventMetadata, *, clock: Callable[[], datetime], new_id: Callable[[], UUID],
                 project: Project) -> list[Envelope]:
    now = clock()
    writes = [(make_envelopes(stream, versions[stream], events, metadata, now=now, new_id=new_id), versions[stream])
              for stream, events in decision.items() if events]
    written = [e for envelopes, _version in writes for e in envelopes]
    async with store.transaction() as conn:
        await store.append_streams(writes, conn=conn)  # one statement, however many streams
        await project(conn, written)
    return written


async def retrying(attempt: Callable[[], Awaitable[list[Envelope]]]) -> list[Envelope]:
    """Run `attempt` (load, decide, commit) again on a lost race, a few times."""
    for _ in range(ATTEMPTS - 1):
        try:
            return await attempt()
        except ConcurrencyConflict:
            continue
    return await attempt()
