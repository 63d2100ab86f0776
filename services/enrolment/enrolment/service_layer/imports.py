"""Importing an organisation's list: validate every row, resolve the learners, decide all rows on the roster at
once and append the result in one go (one append of many events, whatever the list's length).

A preflight resolves learners without registering anyone and appends nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from uuid import UUID

import asyncpg
from ttct.contracts import EventMetadata
from ttct.contracts.types import DispatchDecision, SealedPersonalData
from ttct.domain.errors import Invalid
from ttct.eventsourcing.aggregates import Aggregates
from ttct.privacy.personal import KeyVault, random_nonce

from enrolment.adapters import decisions as cited_decisions
from enrolment.adapters import organisations as directory
from enrolment.adapters import reorganisation
from enrolment.adapters import views
from enrolment.domain import decisions
from enrolment.domain.importing import (
    MAX_ROWS,
    CheckedRow,
    RowOutcome,
    check_rows,
    consistent_decisions,
    decide_import,
    registered_in,
)
from enrolment.domain.organisations import OrganisationRef
from enrolment.domain.roster import Roster, external_keys, identity_key, personal_data, profile_of, stream_id
from enrolment.service_layer.handlers import class_facts, sealed


async def import_rows(pool: asyncpg.Pool, rosters: Aggregates[Roster], centre: str, class_id: UUID,
                      raws: Sequence[Mapping[str, object]], default: OrganisationRef | None, *,
                      preflight: bool, metadata: EventMetadata, new_id: Callable[[], UUID],
                      vault: KeyVault, today: date, nonce: Callable[[], bytes] = random_nonce,
                      first_row: int = 2, decision: DispatchDecision | None = None) -> list[RowOutcome]:
    if len(raws) > MAX_ROWS:
        raise Invalid(f"a list may have at most {MAX_ROWS} rows (this one has {len(raws)}): split it",
                      f"Mỗi danh sách tối đa {MAX_ROWS} dòng (danh sách này có {len(raws)} dòng)",
                      code="too-many-rows")
    facts = await class_facts(pool, centre, class_id)
    rows = check_rows(raws, default, on=today, first_row=first_row, decision=decision)
    codes = [row.command.sending_organisation.code for row in rows if row.command is not None]
    rows = registered_in(rows, await directory.names(pool, codes, today),
                         await reorganisation.successions(pool, codes, today))
    cited = {decisions.key(row.command.sending_organisation.code, row.command.dispatch_decision)
             for row in rows if row.command is not None and row.command.dispatch_decision is not None}
    rows = consistent_decisions(rows, await cited_decisions.recorded(pool, sorted(cited)))
    learner_ids = await _learners(pool, rows, preflight=preflight, new_id=new_id)
    people = {learner_ids[row.row]: personal_data(row.command) for row in rows if row.command is not None}
    profiles = {learner_ids[row.row]: profile for row in rows
                if row.command is not None and (profile := profile_of(row.command)) is not None}
    if preflight:  # nothing is appended: no key is made, nothing sealed
        seals = {learner: SealedPersonalData(learner_id=learner, nonce="", ciphertext="") for learner in people}
        profile_seals = {learner: seals[learner] for learner in profiles}
    else:
        seals = await sealed(vault, centre, people, nonce)
        profile_seals = await sealed(vault, centre, profiles, nonce) if profiles else {}
    row_seals = {row: seals[learner] for row, learner in learner_ids.items()}
    row_profiles = {row: profile_seals[learner] for row, learner in learner_ids.items() if learner in profile_seals}
    outcomes: list[RowOutcome] = []

    def decide(roster: Roster):
        events, decided = decide_import(rows, learner_ids, row_seals, facts, roster, row_profiles)
        outcomes[:] = decided  # the outcomes of the attempt that was appended (a lost race decides again)
        return [] if preflight else events

    if preflight:
        roster, _ = await rosters.load(stream_id(class_id))
        decide(roster)
    else:
        await rosters.execute(stream_id(class_id), decide, metadata,
                              project=views.projection(people))
    return outcomes


async def _learners(pool: asyncpg.Pool, rows: list[CheckedRow], *, preflight: bool,
                    new_id: Callable[[], UUID]) -> dict[int, UUID]:
    keys = {row.row: identity_key(row.command) for row in rows if row.command is not None}
    if preflight:
        known = await views.known_learner_ids(pool, list(keys.values()))
        # Someone not yet in the registry holds nothing in any class: any fresh id stands in for them.
        return {row: known.get(key) or new_id() for row, key in keys.items()}
    unique = sorted(set(keys.values()))
    found = await views.learner_ids_for(pool, unique, [new_id() for _ in unique])
    await views.remember_aliases(pool, [(alias, found[keys[row.row]]) for row in rows if row.command is not None
                                        for alias in external_keys(row.command)])
    return {row: found[key] for row, key in keys.items()}
