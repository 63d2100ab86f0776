"""Enrolment's command handlers: gather what a decision needs, decide on the roster aggregate, store it.

Views are written by `views.project` in the transaction that appends the roster's events, so what a request
answers is what a following read shows.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from ttct.aggregates import Aggregates
from ttct.contracts import (
    DomainEvent,
    Envelope,
    EventMetadata,
    LearnerEnrolled,
    read_event,
)
from ttct.contracts.envelope import Code
from ttct.errors import Invalid, NotFound, Rejected

from enrolment.adapters import views
from enrolment.domain.roster import (
    ClassFacts,
    EnrolLearner,
    Roster,
    SetQuota,
    decide_admit,
    decide_enrol,
    decide_set_quota,
    decide_withdraw,
    external_keys,
    identity_key,
    stream_id,
)


async def class_facts(pool: asyncpg.Pool, centre: str, class_id: UUID) -> ClassFacts:
    facts = await views.class_facts(pool, centre, class_id)
    if facts is None:
        raise Rejected(
            f"class {class_id} is not open for enrolment at this centre (unknown to enrolment)",
            f"Lớp {class_id} chưa mở đăng ký tại trung tâm này",
            code="class-unknown",
        )
    return facts


def _events(envelopes: list[Envelope]) -> list[DomainEvent]:
    return [read_event(e) for e in envelopes]


async def enrol_learner(
    pool: asyncpg.Pool,
    rosters: Aggregates[Roster],
    centre: str,
    class_id: UUID,
    command: EnrolLearner,
    metadata: EventMetadata,
    new_id: Callable[[], UUID],
) -> tuple[DomainEvent, Envelope]:
    """A seat (LearnerEnrolled) or a place on the waiting list (LearnerWaitlisted)."""
    facts = await class_facts(pool, centre, class_id)
    learner_id = await views.learner_id_for(pool, identity_key(command), new_id())
    await views.remember_aliases(pool, [(key, learner_id) for key in external_keys(command)])
    [envelope] = await rosters.execute(
        stream_id(class_id), lambda roster: decide_enrol(command, learner_id, facts, roster), metadata,
        project=views.project,
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
                    organisation: Code, command: SetQuota, metadata: EventMetadata) -> list[DomainEvent]:
    facts = await class_facts(pool, centre, class_id)
    return _events(await rosters.execute(
        stream_id(class_id), lambda roster: decide_set_quota(organisation, command, facts, roster), metadata,
        project=views.project))


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
    neither). A full target puts the learner on its waiting list.
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
