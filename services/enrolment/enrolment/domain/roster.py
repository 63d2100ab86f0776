"""A class's roster: who holds its seats. Pure decide and evolve; the class's facts come from scheduling."""
from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from ttct.contracts import DomainEvent, LearnerEnrolled
from ttct.contracts.types import SendingOrganisation, VietnameseText
from ttct.errors import Rejected


class EnrolLearner(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    full_name: VietnameseText
    date_of_birth: date
    sending_organisation: SendingOrganisation
    national_id: str | None = Field(default=None, pattern=r"^[0-9]{9,12}$")
    party_card_number: str | None = Field(default=None, pattern=r"^[0-9A-Za-z]{4,20}$")


@dataclass(frozen=True)
class ClassFacts:
    """What enrolment knows of a class, from scheduling's ClassOpened."""

    class_id: UUID
    title: str
    capacity: int


@dataclass(frozen=True)
class Roster:
    learners: frozenset[UUID] = field(default_factory=frozenset)

    @property
    def seats_taken(self) -> int:
        return len(self.learners)


def stream_id(class_id: UUID) -> str:
    return f"enrolment:roster:{class_id}"


def identity_key(command: EnrolLearner) -> str:
    """One person across classes and years: national ID, else party card, else name + birth date + organisation.

    Hashed, so the key that finds a person again is not itself personal data in clear.
    """
    if command.national_id:
        raw = f"nid:{command.national_id}"
    elif command.party_card_number:
        raw = f"card:{command.party_card_number.upper()}"
    else:
        name = unicodedata.normalize("NFC", command.full_name).casefold()
        raw = f"name:{name}|{command.date_of_birth.isoformat()}|{command.sending_organisation.code}"
    return hashlib.sha256(raw.encode()).hexdigest()


def decide_enrol(command: EnrolLearner, learner_id: UUID, facts: ClassFacts, roster: Roster) -> list[DomainEvent]:
    if learner_id in roster.learners:
        raise Rejected(
            f"{command.full_name} is already enrolled in this class",
            f"Học viên {command.full_name} đã có tên trong lớp này",
            code="already-enrolled",
        )
    if roster.seats_taken >= facts.capacity:
        raise Rejected(
            f"the class is full ({facts.capacity} seats)",
            f"Lớp đã đủ {facts.capacity} học viên",
            code="class-full",
        )
    return [
        LearnerEnrolled(
            class_id=facts.class_id,
            class_title=facts.title,
            learner_id=learner_id,
            full_name=command.full_name,
            date_of_birth=command.date_of_birth,
            sending_organisation=command.sending_organisation,
            seat_number=roster.seats_taken + 1,
        )
    ]


def evolve(roster: Roster, event: DomainEvent) -> Roster:
    match event:
        case LearnerEnrolled(learner_id=learner_id):
            return replace(roster, learners=roster.learners | {learner_id})
    return roster
