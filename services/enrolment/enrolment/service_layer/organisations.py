"""Registering and updating sending organisations in the province's directory."""
from __future__ import annotations

import asyncpg
from ttct.contracts import EventMetadata
from ttct.eventsourcing.aggregates import Aggregates

from enrolment.adapters import organisations as views
from enrolment.domain.organisations import (
    Organisation,
    RegisterOrganisation,
    decide_register,
    stream_id,
)


async def register(pool: asyncpg.Pool, organisations: Aggregates[Organisation], command: RegisterOrganisation,
                   metadata: EventMetadata, *, update: bool,
                   if_match: frozenset[str] | None = None) -> tuple[dict, int]:
    """The organisation as registered, and its version (ETag)."""
    parent = await views.parent_facts(pool, command.parent_code)
    current = await views.get(pool, command.code)
    await organisations.execute(
        stream_id(command.code),
        lambda state: decide_register(command, parent, state, update=update,
                                      current_centre=current["centre"] if current else None, if_match=if_match),
        metadata, project=views.project)
    found = await views.get(pool, command.code)
    assert found is not None
    return found, await version(organisations, command.code)


async def version(organisations: Aggregates[Organisation], code: str) -> int:
    state, _ = await organisations.load(stream_id(code))
    return state.version
