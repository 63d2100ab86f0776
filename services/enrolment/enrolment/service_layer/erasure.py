"""Erasing a learner's personal data on request (issue 7): destroy their key, forget what enrolment holds in
clear, and tell the other services (LearnerErased), which forget theirs.

The key goes first: once it is gone every sealed copy (events, streams, backups) is unreadable, whatever happens
next. The event is then appended with the redaction of enrolment's views in one transaction; a repeated request
finds the event there and only redacts again, so a failure between the two steps is mended by retrying.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from ttct.contracts import DomainEvent, Envelope, EventMetadata
from ttct.contracts.learner_erased import LearnerErased
from ttct.domain.errors import NotFound
from ttct.eventsourcing.aggregates import Aggregates
from ttct.http.idempotency import forget_learner
from ttct.privacy import tenancy
from ttct.privacy.personal import KeyVault

from enrolment.adapters import views


def stream_id(learner_id: UUID) -> str:
    return f"enrolment:learner:{learner_id}"


def evolve(erased_at: datetime | None, event: DomainEvent) -> datetime | None:
    return event.erased_at if isinstance(event, LearnerErased) else erased_at


def decide_erase(learner_id: UUID, centre: str, now: datetime, erased_at: datetime | None) -> list[DomainEvent]:
    return [] if erased_at is not None else [LearnerErased(learner_id=learner_id, centre=centre, erased_at=now)]


@dataclass(frozen=True)
class Erasure:
    learner_id: UUID
    erased_at: datetime
    key_destroyed: bool


async def _redact(conn: asyncpg.Connection, learner_id: UUID) -> None:
    # the learner's rows at every centre, not only the caller's (row-level security): an erasure reaches them all
    await tenancy.widen_transaction(conn)
    await views.erase(conn, learner_id)
    await forget_learner(conn, learner_id)


async def erase_learner(pool: asyncpg.Pool, vault: KeyVault, erasures: Aggregates[datetime | None], centre: str,
                        learner_id: UUID, metadata: EventMetadata, clock: Callable[[], datetime]) -> Erasure:
    if not (await views.learner_at_centre(pool, centre, learner_id) or await vault.centre_of(learner_id) == centre):
        raise NotFound(f"learner {learner_id} is not known at this centre",
                       f"Không có học viên {learner_id} tại trung tâm này", code="learner-unknown")
    destroyed = await vault.destroy(learner_id, centre)
    now = clock()

    async def project(conn: asyncpg.Connection, _envelopes: list[Envelope]) -> None:
        await _redact(conn, learner_id)

    appended = await erasures.execute(stream_id(learner_id), lambda erased_at: decide_erase(
        learner_id, centre, now, erased_at), metadata, project=project)
    if not appended:  # erased before: redact again (harmless), answer when
        async with pool.acquire() as conn, conn.transaction():
            await _redact(conn, learner_id)
    erased_at, _ = await erasures.load(stream_id(learner_id))
    return Erasure(learner_id, erased_at or now, destroyed)
