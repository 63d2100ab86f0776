"""Registering and updating sending organisations in the province's directory."""
from __future__ import annotations

import asyncpg

from ttct.aggregates import Aggregates
from ttct.contracts import EventMetadata

from enrolment.adapters import organisations as views
from enrolment.domain.organisations import Organisation, RegisterOrganisation, decide_register, stream_id


async def register(pool: asyncpg.Pool, organisations: Aggregates[Organisation], command: RegisterOrganisation,
                   metadata: EventMetadata, *, update: bool) -> dict:
    parent = await views.parent_facts(pool, command.parent_code)
    current = await views.get(pool, command.code)
    await organisations.execute(
        stream_id(command.code),
        lambda state: decide_register(command, parent, state, update=update,
                                      current_centre=current["centre"] if current else None),
        metadata, project=views.project)
    found = await views.get(pool, command.code)
    assert found is not None
    return found
