"""Enrolment's command handlers: gather what a decision needs, decide on the roster aggregate, store it.

Views are written by `views.project` in the transaction that appends the roster's events, so what a request
answers is what a following read shows.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg
from ttct.contracts import (
    DomainEvent,
    Envelope,
    EventMetadata,
    LearnerEnrolled,
    read_event,
)
from ttct.contracts.envelope import Code
from ttct.domain.errors import Invalid, NotFound, Rejected
from ttct.eventsourcing.aggregates import Aggregates
from ttct.http.conditional import execute_versioned, version_of
from ttct.privacy.personal import KeyDestroyed, KeyVault, PersonalData, SealedPersonalData, random_nonce, seal_all

from enrolment.adapters import decisions as cited_decisions
from enrolment.adapters.admission import admission
from enrolment.adapters import reorganisation
from enrolment.adapters import views
from enrolment.domain import decisions
from enrolment.domain.reorganisation import check_not_succeeded
from enrolment.domain.organisations import sending_organisation
from enrolment.domain.roster import (
    ChangeCapacity,
    ClassFacts,
    EnrolLearner,
    Roster,
    SetQuota,
    capacity_of,
    check_birth_date,
    decide_admit,
    decide_change_capacity,
    decide_enrol,
    decide_set_quota,
    decide_withdraw,
    external_keys,
    identity_key,
    personal_data,
    profile_of,
    stream_id,
)


async def class_facts(pool: asyncpg.Pool, centre: str, class_id: UUID) -> ClassFacts:
    return _opened(await views.class_facts(pool, centre, class_id), class_id)


def _opened(facts: ClassFacts | None, class_id: UUID) -> ClassFacts:
    if facts is None:
        raise Rejected(
            f"class {class_id} is not open for enrolment at this centre (unknown to enrolment)",
            f"Lớp {class_id} chưa mở đăng ký tại trung tâm này",
            code="class-unknown",
        )
    return facts


def _events(envelopes: list[Envelope]) -> list[DomainEvent]:
    return [read_event(e) for e in envelopes]


async def sealed(vault: KeyVault, centre: str, items: dict[UUID, PersonalData],
                 nonce: Callable[[], bytes] = random_nonce) -> dict[UUID, SealedPersonalData]:
    """The learners' personal data sealed with their keys, before the roster decides (issue 7)."""
    try:
        return await seal_all(vault, centre, items, nonce)
    except KeyDestroyed:
        raise Rejected("this learner's personal data were erased on request: enrol them as a new learner",
                       "Dữ liệu cá nhân của học viên này đã bị xoá theo yêu cầu", code="learner-erased") from None


async def enrol_learner(
    pool: asyncpg.Pool,
    rosters: Aggregates[Roster],
    centre: str,
    class_id: UUID,
    command: EnrolLearner,
    metadata: EventMetadata,
    new_id: Callable[[], UUID],
    *,
    vault: KeyVault,
    today: date,
    nonce: Callable[[], bytes] = random_nonce,
) -> tuple[DomainEvent, Envelope]:
    """A seat (LearnerEnrolled) or a place on the waiting list (LearnerWaitlisted), the learner's name and birth
    date sealed with their key. `today` is the day of enrolment (Vietnam time)."""
    check_birth_date(command, today)  # before the learner is registered or given a key
    code = command.sending_organisation.code
    known = await admission(pool, [code], today, centre, class_id)
    organisation = sending_organisation(code, known.names)
    check_not_succeeded(code, known.successions, "body.sending_organisation.code")
    if command.dispatch_decision is not None:
        wanted = decisions.key(code, command.dispatch_decision)
        decisions.check(code, command.dispatch_decision, await cited_decisions.recorded(pool, [wanted]))
    facts = _opened(known.facts, class_id)
    learner_id = await views.register_learner(pool, identity_key(command), new_id(), external_keys(command))
    person, profile = personal_data(command), profile_of(command)
    seal = (await sealed(vault, centre, {learner_id: person}, nonce))[learner_id]
    profile_seal = (await sealed(vault, centre, {learner_id: profile}, nonce))[learner_id] if profile else None
    [envelope] = await rosters.execute(
        stream_id(class_id),
        lambda roster: decide_enrol(command, learner_id, seal, facts, roster, organisation=organisation,
                                    profile=profile_seal), metadata,
        project=views.projection({learner_id: person}),
    )
    return read_event(envelope), envelope


async def withdraw_learner(pool: asyncpg.Pool, rosters: Aggregates[Roster], centre: str, class_id: UUID,
                           learner_id: UUID, reason: str, metadata: EventMetadata) -> list[DomainEvent]:
    """LearnerWithdrawn, then the promotions it makes room for, in one append."""
    facts = await class_facts(pool, centre, class_id)
    return _events(await rosters.execute(
        stream_id(class_id), lambda roster: decide_withdraw(learner_id, reason, facts, roster), metadata,
        project=views.project))


async def set_quota(pool: asyncpg.Pool, rosters: Aggregates[Roster], centre: str, class_id: UUID,
                    organisation: Code, command: SetQuota, metadata: EventMetadata,
                    if_match: frozenset[str] | None = None, today: date | None = None) -> tuple[list[DomainEvent], int]:
    """The events (OrganisationQuotaSet and the promotions it allows) and the roster's version afterwards (its
    ETag); with `if_match`, only on the roster's version the client read. An organisation merged or dissolved by
    `today` is given no quota (removing one it had is allowed): its successor's learners enrol under the successor."""
    if today is not None and command.quota is not None:
        check_not_succeeded(organisation, await reorganisation.successions(pool, [organisation], today),
                            "path.organisation")
    facts = await class_facts(pool, centre, class_id)
    appended: list[DomainEvent] = []

    def decide(roster: Roster) -> list[DomainEvent]:
        appended[:] = decide_set_quota(organisation, command, facts, roster)
        return appended

    version = await execute_versioned(rosters, stream_id(class_id), decide, metadata, if_match=if_match,
                                      what=f"the roster of class {class_id}", project=views.project,
                                      empty_exists=True)
    return appended, version


@dataclass(frozen=True)
class Capacity:
    capacity: int
    seats_taken: int
    waiting: int
    when_full: str


async def capacity(pool: asyncpg.Pool, rosters: Aggregates[Roster], centre: str,
                   class_id: UUID) -> tuple[Capacity, int]:
    """The class's seats now, from the roster itself, with the roster's version (its ETag)."""
    facts = await class_facts(pool, centre, class_id)
    roster, version = await rosters.load(stream_id(class_id))
    return Capacity(capacity_of(facts, roster), roster.seats_taken, len(roster.waiting), facts.when_full), version


async def change_capacity(pool: asyncpg.Pool, rosters: Aggregates[Roster], centre: str, class_id: UUID,
                          command: ChangeCapacity, metadata: EventMetadata,
                          if_match: frozenset[str] | None = None) -> tuple[list[DomainEvent], int]:
    """The events (ClassCapacityChanged and the promotions it allows) and the roster's version afterwards; with
    `if_match`, only on the roster's version the client read."""
    facts = await class_facts(pool, centre, class_id)
    appended: list[DomainEvent] = []

    def decide(roster: Roster) -> list[DomainEvent]:
        appended[:] = decide_change_capacity(command, facts, roster)
        return appended

    version = await execute_versioned(rosters, stream_id(class_id), decide, metadata, if_match=if_match,
                                      what=f"the roster of class {class_id}", project=views.project,
                                      empty_exists=True)
    return appended, version


@dataclass(frozen=True)
class Quota:
    organisation_code: str
    quota: int | None
    seated: int
    waiting: int


async def quota(rosters: Aggregates[Roster], class_id: UUID, organisation: Code) -> tuple[Quota, int]:
    """One organisation's quota in the class from the roster itself, with the roster's version (its ETag), so
    the two always agree."""
    roster, version = await rosters.load(stream_id(class_id))
    return Quota(organisation, roster.quotas.get(organisation), roster.per_organisation.get(organisation, 0),
                 sum(1 for m in roster.waiting if m.organisation == organisation)), version


async def version(rosters: Aggregates[Roster], class_id: UUID) -> int:
    """The roster's version: the ETag of its quotas."""
    return await version_of(rosters, stream_id(class_id))


@dataclass(frozen=True)
class Transfer:
    arrival: DomainEvent | None  # LearnerEnrolled or LearnerWaitlisted in the target; None if it was already there
    status: str  # enrolled | waitlisted, in the target
    seat_number: int | None
    position: int | None
    departure: list[DomainEvent]  # LearnerWithdrawn (reason "transferred") and promotions in the source


async def transfer_learner(pool: asyncpg.Pool, rosters: Aggregates[Roster], centre: str, class_id: UUID,
                           learner_id: UUID, target_id: UUID, metadata: EventMetadata) -> Transfer:
    """Move a learner to another class of the centre: arrive in the target first, then leave the source.

    Two aggregates, so two appends, each idempotent: the arrival is skipped if the learner already holds a seat
    or waits in the target, the departure if they no longer hold anything in the source. A refusal by the
    target (unknown or cancelled class) leaves the source untouched; a failure between the two steps leaves the
    learner in both classes until the same request is repeated, which completes it (it never leaves them in
    neither). A full target puts the learner on its waiting list, or refuses them (409 class-full, the source
    untouched) when its policy is to refuse when full.
    """
    if target_id == class_id:
        raise Invalid("the target class is the learner's class", "Lớp chuyển đến trùng với lớp hiện tại",
                      code="same-class")
    source_facts = await class_facts(pool, centre, class_id)
    target_facts = await class_facts(pool, centre, target_id)
    source, _ = await rosters.load(stream_id(class_id))
    member = source.member(learner_id)
    arrival: list[Envelope] = []
    if member is None:
        target, _ = await rosters.load(stream_id(target_id))
        if not target.holds(learner_id):
            raise NotFound(f"learner {learner_id} is neither enrolled nor waiting in this class",
                           f"Học viên {learner_id} không có tên trong lớp hay danh sách chờ của lớp",
                           code="learner-not-in-class")
    else:
        arrival = await rosters.execute(
            stream_id(target_id),
            lambda roster: [] if roster.holds(learner_id) else decide_admit(member, target_facts, roster),
            metadata, project=views.project)
    departure = await rosters.execute(
        stream_id(class_id),
        lambda roster: decide_withdraw(learner_id, "transferred", source_facts, roster) if roster.holds(learner_id)
        else [],
        metadata, project=views.project)
    target, _ = await rosters.load(stream_id(target_id))
    seat = target.seated.get(learner_id)
    return Transfer(arrival=read_event(arrival[0]) if arrival else None,
                    status="enrolled" if seat else "waitlisted", seat_number=seat[1] if seat else None,
                    position=target.waiting_position(learner_id), departure=_events(departure))


def promoted(events: list[DomainEvent]) -> list[LearnerEnrolled]:
    return [e for e in events if isinstance(e, LearnerEnrolled) and e.from_waiting_list]


async def promoted_names(pool: asyncpg.Pool, events: list[DomainEvent]) -> dict[UUID, str]:
    """The names of the learners `events` promoted, from the roster view (written with the events): the events
    carry them sealed only."""
    seats = [(e.class_id, e.learner_id) for e in promoted(events)]
    return await views.names(pool, seats) if seats else {}
