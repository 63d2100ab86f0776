"""A class's roster: its seats, its per-organisation quotas (chỉ tiêu) and its waiting list, decided together on
one stream (`enrolment:roster:<class_id>`) so that concurrent requests can neither over-fill the class, nor
exceed a quota, nor skip a waiting learner. Pure decide and evolve; the class's facts come from scheduling.

The invariant every decision keeps: while a seat is free, no waiting learner is eligible for it (eligible = their
organisation stays within its quota once seated). Every decision that could make a waiting learner eligible (a
withdrawal, a quota raised or removed, the capacity raised) promotes the first eligible ones in the same append.

The capacity is the class's (ClassOpened) until the centre changes it here (ClassCapacityChanged): the roster is
where the seats taken are known, so a capacity below them is refused in the same decision that would record it.
A class whose policy is "refuse" turns away a learner who finds it full instead of putting them on the list. So a newcomer who
finds a free seat within their quota takes it without jumping ahead of anyone who could have had it.
"""
from __future__ import annotations

import hashlib
import unicodedata
from bisect import bisect_left, bisect_right, insort
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from ttct.contracts import DomainEvent, LearnerEnrolled
from ttct.contracts.class_capacity_changed import ClassCapacityChanged
from ttct.contracts.class_opened import WhenFull
from ttct.contracts.envelope import Code
from ttct.contracts.learner_waitlisted import LearnerWaitlisted
from ttct.contracts.learner_withdrawn import LearnerWithdrawn
from ttct.contracts.organisation_quota_set import OrganisationQuotaSet
from ttct.contracts.types import (
    PARTY_CARD_NUMBER,
    DispatchDecision,
    Gender,
    LearnerProfile,
    PersonalData,
    SealedPersonalData,
    SendingOrganisation,
    VietnameseText,
)
from ttct.domain.errors import Invalid, NotFound, Rejected

from enrolment.domain.organisations import OrganisationRef


class EnrolLearner(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    full_name: VietnameseText
    date_of_birth: date = Field(description="the learner is 16 to 100 years old on the day of enrolment")
    sending_organisation: OrganisationRef
    national_id: str | None = Field(default=None, pattern=r"^[0-9]{9,12}$")
    party_card_number: str | None = Field(default=None, pattern=PARTY_CARD_NUMBER,
                                         description="số thẻ đảng viên, digits only: also finds the person again")
    gender: Gender | None = None
    position: VietnameseText | None = Field(default=None, description="chức vụ, e.g. Bí thư Chi bộ thôn 3")
    party_admitted_on: date | None = Field(default=None, description="ngày vào Đảng: not before the learner's 18th "
                                                                     "birthday, not in the future")
    dispatch_decision: DispatchDecision | None = Field(
        default=None, description="the organisation's decision sending the learner (quyết định cử đi học); "
                                  "required in classes whose programme requires one (422 "
                                  "dispatch-decision-required)")


YOUNGEST, OLDEST = 16, 100
"""The ages (on the day of enrolment) a learner may have: those sent to the centre's programmes are party
members, cadres or people preparing to join the Party (16 at the youngest); a date giving an age outside them is
a typing error (2099, 1800), not a person."""


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def birth_date_problem(born: date, enrolled_on: date) -> tuple[str, str] | None:
    """Why `born` cannot be the date of birth of a learner enrolled on `enrolled_on` (English, Vietnamese), or None."""
    if born > enrolled_on:
        return (f"date_of_birth {born:%d/%m/%Y} is in the future",
                f"Ngày sinh {born:%d/%m/%Y} nằm trong tương lai")
    age = age_on(born, enrolled_on)
    if not YOUNGEST <= age <= OLDEST:
        return (f"date_of_birth {born:%d/%m/%Y} gives an age of {age} on {enrolled_on:%d/%m/%Y}: a learner is "
                f"{YOUNGEST} to {OLDEST} years old",
                f"Ngày sinh {born:%d/%m/%Y} cho tuổi {age} vào ngày {enrolled_on:%d/%m/%Y}: học viên phải từ "
                f"{YOUNGEST} đến {OLDEST} tuổi")
    return None


PARTY_AGE = 18
"""A party member is admitted at 18 at the youngest (Điều lệ Đảng)."""


def party_admission_problem(born: date, admitted: date, enrolled_on: date) -> tuple[str, str] | None:
    """Why `admitted` cannot be the date of party admission of a learner born on `born` (English, Vietnamese)."""
    if admitted > enrolled_on:
        return (f"party_admitted_on {admitted:%d/%m/%Y} is in the future",
                f"Ngày vào Đảng {admitted:%d/%m/%Y} nằm trong tương lai")
    if age_on(born, admitted) < PARTY_AGE:
        return (f"party_admitted_on {admitted:%d/%m/%Y} is before the learner's {PARTY_AGE}th birthday "
                f"(born {born:%d/%m/%Y})",
                f"Ngày vào Đảng {admitted:%d/%m/%Y} trước khi học viên đủ {PARTY_AGE} tuổi (sinh ngày {born:%d/%m/%Y})")
    return None


def check_birth_date(command: EnrolLearner, enrolled_on: date) -> None:
    """The birth date, and the party admission against it: refused with the field named."""
    problem = birth_date_problem(command.date_of_birth, enrolled_on)
    if problem is not None:
        raise Invalid(*problem, code="invalid-input",
                      errors=[{"field": "body.date_of_birth", "message": problem[0]}])
    if command.party_admitted_on is not None:
        problem = party_admission_problem(command.date_of_birth, command.party_admitted_on, enrolled_on)
        if problem is not None:
            raise Invalid(*problem, code="invalid-input",
                          errors=[{"field": "body.party_admitted_on", "message": problem[0]}])


class ChangeCapacity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    capacity: int = Field(ge=1, le=5000, description="the class's seats from now on: not fewer than those taken; "
                                                     "more promotes learners from the waiting list")


class SetQuota(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    quota: int | None = Field(ge=0, le=5000, description="the most seats the organisation's learners may hold in "
                                                         "the class; null removes the quota")


@dataclass(frozen=True)
class ClassFacts:
    """What enrolment knows of a class, from scheduling's ClassOpened (and ClassCancelled). `capacity` is the one
    it opened with: the roster's own `capacity`, once changed, takes its place (`capacity_of`)."""

    class_id: UUID
    title: str
    capacity: int
    cancelled: bool = False
    when_full: WhenFull = "waiting-list"
    requires_dispatch_decision: bool = False  # the programme's setting, as ClassOpened carried it


_Sealed = tuple[str, str, str] | SealedPersonalData


def _compact(learner_id: UUID, sealed: SealedPersonalData) -> _Sealed:
    """A sealed blob as the strings it is made of: the aggregate cache holds one or two per learner of thousands of
    classes, and a validated model of them weighs twice its strings. One sealed with another learner's key (no
    producer does that) is kept whole, so nothing is lost either way."""
    if sealed.learner_id != learner_id:
        return sealed
    return sealed.scheme, sealed.nonce, sealed.ciphertext


def _sealed(learner_id: UUID, compact: _Sealed) -> SealedPersonalData:
    if isinstance(compact, SealedPersonalData):
        return compact
    scheme, nonce, ciphertext = compact  # validated when the event carrying it was
    return SealedPersonalData.model_construct(learner_id=learner_id, scheme=scheme, nonce=nonce, ciphertext=ciphertext)


@dataclass(frozen=True, slots=True, init=False)  # slots: the aggregate cache holds one per learner of thousands of classes
class Member:
    """A learner as the roster knows them: enough to publish any of their events without another lookup. Their
    name and birth date only sealed (the service layer seals them with the learner's key): the roster never
    needs them, and after an erasure nobody can read them. `personal` and `profile` (sealed too: gender,
    position, party admission, party card) are kept compact and given back as equal models."""

    learner_id: UUID
    sending_organisation: SendingOrganisation
    dispatch_decision: DispatchDecision | None
    _personal: _Sealed
    _profile: _Sealed | None

    def __init__(self, learner_id: UUID, personal: SealedPersonalData, sending_organisation: SendingOrganisation,
                 dispatch_decision: DispatchDecision | None = None, profile: SealedPersonalData | None = None) -> None:
        set_ = object.__setattr__
        set_(self, "learner_id", learner_id)
        set_(self, "sending_organisation", sending_organisation)
        set_(self, "dispatch_decision", dispatch_decision)
        set_(self, "_personal", _compact(learner_id, personal))
        set_(self, "_profile", None if profile is None else _compact(learner_id, profile))

    @property
    def personal(self) -> SealedPersonalData:
        return _sealed(self.learner_id, self._personal)

    @property
    def profile(self) -> SealedPersonalData | None:
        return None if self._profile is None else _sealed(self.learner_id, self._profile)

    @property
    def organisation(self) -> str:
        return self.sending_organisation.code


def _frozen(d: dict) -> MappingProxyType:
    return MappingProxyType(d)


class RosterView:
    """What a decision reads of a roster: the frozen `Roster` the aggregate cache holds, or a `DraftRoster` being
    decided over many events. The rules read both alike, so each is written once."""

    __slots__ = ()
    seated: Mapping[UUID, tuple[Member, int]]  # learner_id -> (Member, seat number)
    waiting: Collection[Member]  # in waiting-list order
    quotas: Mapping[str, int]  # organisation code -> quota
    per_organisation: Mapping[str, int]  # code -> seats held
    freed: Sequence[int]  # seat numbers given back, ascending
    highest_seat: int
    capacity: int | None  # the centre's latest ClassCapacityChanged; None: as the class opened

    @property
    def seats_taken(self) -> int:
        return len(self.seated)

    def next_seat(self) -> int:
        return self.freed[0] if self.freed else self.highest_seat + 1

    def waiting_position(self, learner_id: UUID) -> int | None:
        raise NotImplementedError

    def member(self, learner_id: UUID) -> Member | None:
        raise NotImplementedError

    def holds(self, learner_id: UUID) -> bool:
        return learner_id in self.seated or self.waiting_position(learner_id) is not None

    def within_quota(self, organisation: str) -> bool:
        """Whether one more learner of `organisation` would still be within its quota."""
        quota = self.quotas.get(organisation)
        return quota is None or self.per_organisation.get(organisation, 0) < quota


@dataclass(frozen=True)
class Roster(RosterView):
    seated: MappingProxyType = field(default_factory=lambda: _frozen({}))  # learner_id -> (Member, seat number)
    waiting: tuple[Member, ...] = ()  # in waiting-list order
    quotas: MappingProxyType = field(default_factory=lambda: _frozen({}))  # organisation code -> quota
    per_organisation: MappingProxyType = field(default_factory=lambda: _frozen({}))  # code -> seats held
    freed: tuple[int, ...] = ()  # seat numbers given back, ascending
    highest_seat: int = 0
    capacity: int | None = None  # the centre's latest ClassCapacityChanged; None: as the class opened

    @property
    def learners(self) -> frozenset[UUID]:
        return frozenset(self.seated)

    # A scan: a single command asks once, and an index would cost the cache a map per roster it holds.
    def waiting_position(self, learner_id: UUID) -> int | None:
        for i, member in enumerate(self.waiting, start=1):
            if member.learner_id == learner_id:
                return i
        return None

    def member(self, learner_id: UUID) -> Member | None:
        if learner_id in self.seated:
            return self.seated[learner_id][0]
        return next((m for m in self.waiting if m.learner_id == learner_id), None)


class DraftRoster(RosterView):
    """A roster being decided over many events (an organisation's list, a stream read whole, the promotions that
    fill freed seats), changed in place by `apply` so that an event costs what it changes rather than a copy of
    the whole roster, then frozen once. `apply` is the one place where an event changes a roster: `fold` is a
    draft of the roster, the events applied, frozen."""

    __slots__ = ("seated", "quotas", "per_organisation", "freed", "highest_seat", "capacity", "_listed",
                 "_by_learner", "_positions")

    def __init__(self, roster: Roster) -> None:
        # `.copy()`, not `dict(...)`: the frozen roster's maps are read-only views of dicts, and dict() of a view
        # hashes every key again (a learner id's hash is Python code) where copying the dict under it copies its
        # table: a single enrolment in a class of 2,500 cost 1.2 ms here, now a few microseconds.
        self.seated: dict[UUID, tuple[Member, int]] = roster.seated.copy()
        self.quotas: dict[str, int] = roster.quotas.copy()
        self.per_organisation: dict[str, int] = roster.per_organisation.copy()
        self.freed: list[int] = list(roster.freed)
        self.highest_seat, self.capacity = roster.highest_seat, roster.capacity
        # The waiting list as the roster holds it until an event changes it: most decisions seat a learner and
        # never touch it, and keying it by learner costs a hash per waiting learner.
        self._listed: tuple[Member, ...] = roster.waiting
        self._by_learner: dict[UUID, Member] | None = None
        # learner_id -> position from 1, counted when first asked and kept while learners only join the end; a
        # departure moves everyone after it up, so it is counted again (a stream read whole never asks).
        self._positions: dict[UUID, int] | None = None

    @property
    def _waiting(self) -> dict[UUID, Member]:
        """The waiting list keyed by learner: a learner waits at most once (decide_admit refuses one who holds a
        place), the insertion order is the list's, and leaving it costs one removal instead of rebuilding it."""
        if self._by_learner is None:
            self._by_learner = {m.learner_id: m for m in self._listed}
        return self._by_learner

    @property
    def waiting(self) -> Collection[Member]:
        return self._listed if self._by_learner is None else self._by_learner.values()

    def waiting_position(self, learner_id: UUID) -> int | None:
        if self._positions is None:
            self._positions = {learner: i for i, learner in enumerate(self._waiting, start=1)}
        return self._positions.get(learner_id)

    def member(self, learner_id: UUID) -> Member | None:
        if learner_id in self.seated:
            return self.seated[learner_id][0]
        return self._waiting.get(learner_id)

    def apply(self, event: DomainEvent) -> None:
        match event:
            case LearnerEnrolled():
                member = Member(event.learner_id, event.personal, _shared(event.sending_organisation),
                                event.dispatch_decision, event.profile)
                seat = event.seat_number
                self.seated[member.learner_id] = (member, seat)
                if event.from_waiting_list:
                    self._leave_waiting(member.learner_id)
                self.per_organisation[member.organisation] = self.per_organisation.get(member.organisation, 0) + 1
                del self.freed[bisect_left(self.freed, seat):bisect_right(self.freed, seat)]
                self.highest_seat = max(self.highest_seat, seat)
            case LearnerWaitlisted():
                member = Member(event.learner_id, event.personal, _shared(event.sending_organisation),
                                event.dispatch_decision, event.profile)
                self._waiting[member.learner_id] = member
                if self._positions is not None:
                    self._positions[member.learner_id] = len(self._waiting)
            case LearnerWithdrawn(learner_id=learner_id):
                if learner_id in self.seated:
                    member, seat = self.seated.pop(learner_id)
                    self.per_organisation[member.organisation] = self.per_organisation.get(member.organisation, 0) - 1
                    insort(self.freed, seat)
                else:
                    self._leave_waiting(learner_id)
            case OrganisationQuotaSet(organisation_code=code, quota=quota):
                if quota is None:
                    self.quotas.pop(code, None)
                else:
                    self.quotas[code] = quota
            case ClassCapacityChanged(capacity=new_capacity):
                self.capacity = new_capacity

    def _leave_waiting(self, learner_id: UUID) -> None:
        if self._waiting.pop(learner_id, None) is not None:
            self._positions = None

    def freeze(self) -> Roster:
        """The roster as decided. It takes the draft's maps as they are, not copies, and the draft keeps only
        read-only views of them: a later change to its seats or quotas fails rather than altering a frozen roster."""
        waiting = self._listed if self._by_learner is None else tuple(self._by_learner.values())
        roster = Roster(seated=_frozen(self.seated), waiting=waiting,
                        quotas=_frozen(self.quotas), per_organisation=_frozen(self.per_organisation),
                        freed=tuple(self.freed), highest_seat=self.highest_seat, capacity=self.capacity)
        self.seated, self.quotas, self.per_organisation = roster.seated, roster.quotas, roster.per_organisation
        return roster


WaitReason = Literal["class-full", "over-quota"]


def capacity_of(facts: ClassFacts, roster: RosterView) -> int:
    """The class's seats now: as changed on the roster, else as it opened."""
    return facts.capacity if roster.capacity is None else roster.capacity


def wait_reason(facts: ClassFacts, roster: RosterView, organisation: str) -> WaitReason | None:
    """Why a learner of `organisation` arriving now would wait, or None if they would take a seat."""
    if roster.seats_taken >= capacity_of(facts, roster):
        return "class-full"
    if not roster.within_quota(organisation):
        return "over-quota"
    return None


def stream_id(class_id: UUID) -> str:
    return f"enrolment:roster:{class_id}"


ExternalScheme = Literal["national-id", "party-card"]
"""Identifiers other systems know a learner by: the national ID (CCCD) and the party card number (số thẻ đảng viên)."""


def _hashed(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def external_key(scheme: ExternalScheme, value: str) -> str:
    """The hashed key of an external identifier: the registry never holds the identifier itself in clear."""
    return _hashed(f"nid:{value}" if scheme == "national-id" else f"card:{value.upper()}")


def external_keys(command: EnrolLearner) -> list[str]:
    """Every external identifier the command gives, hashed: each maps to the learner once, for good."""
    return ([external_key("national-id", command.national_id)] if command.national_id else []) + (
        [external_key("party-card", command.party_card_number)] if command.party_card_number else [])


def identity_key(command: EnrolLearner) -> str:
    """One person across classes and years: national ID, else party card, else name + birth date + organisation.

    Hashed, so the key that finds a person again is not itself personal data in clear.
    """
    keys = external_keys(command)
    if keys:
        return keys[0]
    name = unicodedata.normalize("NFC", command.full_name).casefold()
    return _hashed(f"name:{name}|{command.date_of_birth.isoformat()}|{command.sending_organisation.code}")


def personal_data(command: EnrolLearner) -> PersonalData:
    """What the command says about the learner as a person: sealed before the roster sees it."""
    return PersonalData(full_name=command.full_name, date_of_birth=command.date_of_birth)


def profile_of(command: EnrolLearner) -> LearnerProfile | None:
    """The rest the centre records about the learner (sealed like the name), or None when the command gives none."""
    profile = LearnerProfile(gender=command.gender, position=command.position,
                             party_admitted_on=command.party_admitted_on, party_card_number=command.party_card_number)
    return profile or None


def member_of(command: EnrolLearner, learner_id: UUID, sealed: SealedPersonalData,
              organisation: SendingOrganisation, profile: SealedPersonalData | None = None) -> Member:
    return Member(learner_id, sealed, organisation, command.dispatch_decision, profile)


def _refuse_cancelled(facts: ClassFacts) -> None:
    if facts.cancelled:
        raise Rejected(f"the class {facts.title} has been cancelled and takes no more learners",
                       f"Lớp {facts.title} đã bị hủy, không nhận thêm học viên", code="class-cancelled")


def _refuse_full(facts: ClassFacts, roster: RosterView) -> Rejected:
    capacity = capacity_of(facts, roster)
    return Rejected(f"the class {facts.title} is full: all of its {capacity} seats are taken, and it takes no "
                    "waiting list", f"Lớp {facts.title} đã đủ {capacity} chỗ và không nhận danh sách chờ",
                    code="class-full", capacity=capacity)


def dispatch_decision_problem(facts: ClassFacts, decision: DispatchDecision | None) -> tuple[str, str] | None:
    """Why a learner sent by `decision` (None: citing none) cannot be admitted to the class (English, Vietnamese)."""
    if facts.requires_dispatch_decision and decision is None:
        return (f"the programme of class {facts.title} requires the sending organisation's dispatch decision: give "
                "dispatch_decision (number, signed_on, signer)",
                f"Chương trình của lớp {facts.title} yêu cầu quyết định cử đi học của đơn vị: cần số, ngày ký và "
                "người ký quyết định")
    return None


def decide_admit(member: Member, facts: ClassFacts, roster: RosterView) -> list[DomainEvent]:
    """A seat if there is one within the organisation's quota, else the end of the waiting list; a class that
    refuses when full refuses a learner who finds no seat (one over their organisation's quota still waits)."""
    _refuse_cancelled(facts)
    if member.learner_id in roster.seated:
        raise Rejected(f"learner {member.learner_id} is already enrolled in this class",
                       f"Học viên {member.learner_id} đã có tên trong lớp này", code="already-enrolled")
    position = roster.waiting_position(member.learner_id)
    if position is not None:
        raise Rejected(f"learner {member.learner_id} is already on this class's waiting list (position {position})",
                       f"Học viên {member.learner_id} đã có tên trong danh sách chờ của lớp (thứ tự {position})",
                       code="already-waiting", position=position)
    if (problem := dispatch_decision_problem(facts, member.dispatch_decision)) is not None:
        raise Invalid(*problem, code="dispatch-decision-required",
                      errors=[{"field": "body.dispatch_decision", "message": problem[0]}])
    common = dict(class_id=facts.class_id, class_title=facts.title, learner_id=member.learner_id,
                  personal=member.personal, sending_organisation=member.sending_organisation,
                  dispatch_decision=member.dispatch_decision, profile=member.profile)
    reason = wait_reason(facts, roster, member.organisation)
    if reason is None:
        return [LearnerEnrolled(**common, seat_number=roster.next_seat())]
    if reason == "class-full" and facts.when_full == "refuse":
        raise _refuse_full(facts, roster)
    return [LearnerWaitlisted(**common, position=len(roster.waiting) + 1)]


def decide_enrol(command: EnrolLearner, learner_id: UUID, sealed: SealedPersonalData, facts: ClassFacts,
                 roster: Roster, *, organisation: SendingOrganisation,
                 profile: SealedPersonalData | None = None) -> list[DomainEvent]:
    """`organisation`: the one the command names by code, as the directory names it
    (`organisations.sending_organisation`); `profile`: the command's `profile_of`, sealed."""
    return decide_admit(member_of(command, learner_id, sealed, organisation, profile), facts, roster)


def promotions(facts: ClassFacts, roster: Roster) -> list[DomainEvent]:
    """Fill free seats from the waiting list, in its order, skipping learners whose organisation is at its quota."""
    if facts.cancelled:
        return []
    events: list[DomainEvent] = []
    draft = DraftRoster(roster)  # a raised capacity can promote thousands: each must not copy the roster
    while draft.seats_taken < capacity_of(facts, draft):
        first = next((m for m in draft.waiting if draft.within_quota(m.organisation)), None)
        if first is None:
            break
        event = LearnerEnrolled(class_id=facts.class_id, class_title=facts.title, learner_id=first.learner_id,
                                personal=first.personal, sending_organisation=first.sending_organisation,
                                seat_number=draft.next_seat(), from_waiting_list=True,
                                dispatch_decision=first.dispatch_decision, profile=first.profile)
        events.append(event)
        draft.apply(event)
    return events


def decide_withdraw(learner_id: UUID, reason: str, facts: ClassFacts, roster: Roster) -> list[DomainEvent]:
    """The learner leaves (their seat or their place in the waiting list); a freed seat is filled at once."""
    member = roster.member(learner_id)
    if member is None:
        raise NotFound(f"learner {learner_id} is neither enrolled nor waiting in this class",
                       f"Học viên {learner_id} không có tên trong lớp hay danh sách chờ của lớp",
                       code="learner-not-in-class")
    withdrawn = LearnerWithdrawn(class_id=facts.class_id, class_title=facts.title, learner_id=learner_id,
                                 personal=member.personal, sending_organisation=member.sending_organisation,
                                 reason=reason)
    return [withdrawn, *promotions(facts, evolve(roster, withdrawn))]


def decide_set_quota(organisation: Code, command: SetQuota, facts: ClassFacts, roster: Roster) -> list[DomainEvent]:
    """Set or remove an organisation's quota. Lowering it below the seats its learners hold unseats nobody: its
    next learners wait. Raising or removing it promotes its waiting learners while seats are free."""
    _refuse_cancelled(facts)
    if roster.quotas.get(organisation) == command.quota:
        return []
    event = OrganisationQuotaSet(class_id=facts.class_id, class_title=facts.title, organisation_code=organisation,
                                 quota=command.quota)
    return [event, *promotions(facts, evolve(roster, event))]


def decide_change_capacity(command: ChangeCapacity, facts: ClassFacts, roster: Roster) -> list[DomainEvent]:
    """Change the class's seats. Fewer than the seats taken is refused (nobody is unseated by it: a learner
    leaves only by withdrawing); more fills the new seats from the waiting list at once, in its order."""
    _refuse_cancelled(facts)
    current = capacity_of(facts, roster)
    if command.capacity == current:
        return []
    if command.capacity < roster.seats_taken:
        raise Rejected(
            f"the class {facts.title} has {roster.seats_taken} seats taken, so its capacity cannot go down to "
            f"{command.capacity} (it is {current})",
            f"Lớp {facts.title} đã có {roster.seats_taken} học viên nên không thể giảm số chỗ xuống "
            f"{command.capacity} (hiện là {current})",
            code="capacity-below-seats-taken", capacity=current, seats_taken=roster.seats_taken)
    event = ClassCapacityChanged(class_id=facts.class_id, class_title=facts.title, capacity=command.capacity,
                                 previous_capacity=current)
    return [event, *promotions(facts, evolve(roster, event))]


_ORGANISATIONS: dict[tuple[str, str], SendingOrganisation] = {}


def _shared(organisation: SendingOrganisation) -> SendingOrganisation:
    """An equal organisation, the same instance for every member it sent: the cached rosters hold tens of
    thousands of members sent by a few hundred organisations (a value, so sharing changes nothing else)."""
    key = (organisation.code, organisation.name)
    found = _ORGANISATIONS.get(key)
    if found is None:
        if len(_ORGANISATIONS) >= 10_000:  # bounded: a province has a few thousand organisations
            _ORGANISATIONS.clear()
        found = _ORGANISATIONS[key] = organisation
    return found


def evolve(roster: Roster, event: DomainEvent) -> Roster:
    return fold(roster, [event])


def fold(roster: Roster, events: Iterable[DomainEvent]) -> Roster:
    """`evolve` over many events, the roster's maps copied once, not once per event: an organisation's list of
    2,000 learners appended at once, or a class's stream read whole, would otherwise copy the seats 2,000 times."""
    draft = DraftRoster(roster)
    for event in events:
        draft.apply(event)
    return draft.freeze()
