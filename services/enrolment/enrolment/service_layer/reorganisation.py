"""Merging, renaming, moving and dissolving sending organisations, and previewing what a merge or a dissolution
would move (which changes nothing)."""
from __future__ import annotations

from datetime import date

import asyncpg
from ttct.contracts import EventMetadata
from ttct.eventsourcing.aggregates import Aggregates

from enrolment.adapters import organisations as views
from enrolment.adapters import reorganisation as changes
from enrolment.domain.organisations import Organisation, stream_id
from enrolment.domain.reorganisation import (
    DissolveOrganisation,
    MergeOrganisations,
    MoveOrganisation,
    RenameOrganisation,
    decide_dissolve,
    decide_merge,
    decide_move,
    decide_rename,
    dissolution_successor,
)


async def merge(pool: asyncpg.Pool, organisations: Aggregates[Organisation], command: MergeOrganisations,
                metadata: EventMetadata) -> dict:
    """The successor as registered after the merge."""
    facts = await changes.facts(pool, [*command.predecessor_codes, command.successor_code])
    parent = await views.parent_facts(pool, command.successor.parent_code if command.successor else None)
    await organisations.execute(stream_id(command.successor_code),
                                lambda state: decide_merge(command, facts, parent, state), metadata,
                                project=views.project)
    found = await views.get(pool, command.successor_code)
    assert found is not None
    return found


async def rename(pool: asyncpg.Pool, organisations: Aggregates[Organisation], code: str,
                 command: RenameOrganisation, metadata: EventMetadata) -> dict:
    facts = await changes.facts(pool, [code])
    await organisations.execute(stream_id(code), lambda state: decide_rename(code, command, facts, state), metadata,
                                project=views.project)
    return await _get(pool, code)


async def move(pool: asyncpg.Pool, organisations: Aggregates[Organisation], code: str, command: MoveOrganisation,
               metadata: EventMetadata) -> dict:
    facts = await changes.facts(pool, [code, command.parent_code])
    parent = await views.parent_facts(pool, command.parent_code)
    await organisations.execute(stream_id(code), lambda state: decide_move(code, command, facts, parent, state),
                                metadata, project=views.project)
    return await _get(pool, code)


async def dissolve(pool: asyncpg.Pool, organisations: Aggregates[Organisation], code: str,
                   command: DissolveOrganisation, metadata: EventMetadata) -> dict:
    facts = await changes.facts(pool, [code])
    successor = dissolution_successor(code, command, facts)
    facts = {**facts, **await changes.facts(pool, [successor])}
    await organisations.execute(stream_id(code), lambda state: decide_dissolve(code, command, facts, state),
                                metadata, project=views.project)
    return await _get(pool, code)


async def _get(pool: asyncpg.Pool, code: str) -> dict:
    found = await views.get(pool, code)
    assert found is not None
    return found


async def preview_merge(pool: asyncpg.Pool, organisations: Aggregates[Organisation], command: MergeOrganisations,
                        today: date) -> dict:
    """What the merge would move where, after the merge's own checks (nothing is appended)."""
    facts = await changes.facts(pool, [*command.predecessor_codes, command.successor_code])
    parent = await views.parent_facts(pool, command.successor.parent_code if command.successor else None)
    state, _ = await organisations.load(stream_id(command.successor_code))
    decide_merge(command, facts, parent, state)
    return await _moves(pool, command.predecessor_codes, command.successor_code, today)


async def preview_dissolution(pool: asyncpg.Pool, organisations: Aggregates[Organisation], code: str,
                              command: DissolveOrganisation, today: date) -> dict:
    facts = await changes.facts(pool, [code])
    successor = dissolution_successor(code, command, facts)
    facts = {**facts, **await changes.facts(pool, [successor])}
    state, _ = await organisations.load(stream_id(code))
    decide_dissolve(code, command, facts, state)
    return await _moves(pool, [code], successor, today)


async def _moves(pool: asyncpg.Pool, predecessors: list[str], successor: str, today: date) -> dict:
    """Per predecessor its learners, open enrolments and waiting places, quotas in open classes, contacts (who
    stop receiving its mail) and the organisations under it (which stay under it until moved); the successor's
    own, when it is registered already (its contacts receive the mail from the effective date)."""
    found = await changes.preview(pool, [*predecessors, successor], today)
    return {"successor_code": successor, "successor": found.get(successor),
            "predecessors": [found[code] for code in predecessors if code in found]}
