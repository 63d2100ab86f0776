"""Registering, renaming and merging centres, and previewing what a merge would move (which changes nothing)."""
from __future__ import annotations

from datetime import date

import asyncpg
from ttct.contracts import EventMetadata
from ttct.eventsourcing.aggregates import Aggregates

from enrolment.adapters import centres as views
from enrolment.domain.centres import (
    Centre,
    MergeCentres,
    RegisterCentre,
    RenameCentre,
    decide_merge,
    decide_register,
    decide_rename,
    stream_id,
)


async def register(centres: Aggregates[Centre], command: RegisterCentre, metadata: EventMetadata) -> None:
    await centres.execute(stream_id(command.code), lambda state: decide_register(command, state), metadata,
                          project=views.project)


async def rename(pool: asyncpg.Pool, centres: Aggregates[Centre], code: str, command: RenameCentre,
                 metadata: EventMetadata) -> None:
    facts = await views.facts(pool, [code])
    await centres.execute(stream_id(code), lambda state: decide_rename(code, command, facts, state), metadata,
                          project=views.project)


async def merge(pool: asyncpg.Pool, centres: Aggregates[Centre], command: MergeCentres,
                metadata: EventMetadata) -> None:
    facts = await views.facts(pool, [*command.predecessor_codes, command.successor_code])
    await centres.execute(stream_id(command.successor_code), lambda state: decide_merge(command, facts, state),
                          metadata, project=views.project)


async def preview_merge(pool: asyncpg.Pool, centres: Aggregates[Centre], command: MergeCentres,
                        today: date) -> dict:
    """What the merge would move where, after the merge's own checks (nothing is appended)."""
    facts = await views.facts(pool, [*command.predecessor_codes, command.successor_code])
    state, _ = await centres.load(stream_id(command.successor_code))
    decide_merge(command, facts, state)
    found = await views.preview(pool, [*command.predecessor_codes, command.successor_code], today)
    return {"successor_code": command.successor_code, "successor": found[command.successor_code],
            "predecessors": [found[code] for code in command.predecessor_codes]}
