"""Certificates: numbered `<centre>/<year>/<seq>` per centre and year, each with a verification code, revocable.
Pure decide and evolve over the stream `assessment:certificates:<centre>:<year>` (one sequence per stream)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from ttct.contracts import DomainEvent
from ttct.contracts.certificate_issued import CertificateIssued
from ttct.contracts.certificate_revoked import CertificateRevoked
from ttct.contracts.types import PlainText
from ttct.domain.errors import NotFound, Rejected

from assessment.domain.facts import ClassFacts, LearnerInClass


class RevokeCertificate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    certificate_number: PlainText(80)
    reason: PlainText(500)


@dataclass(frozen=True, slots=True)  # a centre's year holds thousands, and the cache holds dozens of years
class Certificate:
    number: str
    class_id: UUID  # one object for all of a class's certificates (`_shared_class`)
    learner: bytes  # the learner's id as 16 bytes: a third of a UUID object's memory, 210 bytes a certificate in all
    revoked: bool = False

    @property
    def learner_id(self) -> UUID:
        return UUID(bytes=self.learner)


_CLASSES: dict[UUID, UUID] = {}


def _shared_class(class_id: UUID) -> UUID:
    """An equal id, the same object for every certificate of the class (a value, so sharing changes nothing else)."""
    found = _CLASSES.get(class_id)
    if found is None:
        if len(_CLASSES) >= 20_000:  # bounded: a province's year is a few thousand classes
            _CLASSES.clear()
        found = _CLASSES[class_id] = class_id
    return found


@dataclass(frozen=True)
class Registry:
    issued: int = 0
    certificates: Mapping[str, Certificate] = field(default_factory=dict)


def stream_id(centre: str, year: int) -> str:
    return f"assessment:certificates:{centre}:{year}"


def number(centre: str, year: int, seq: int) -> str:
    return f"{centre}/{year}/{seq:05d}"


def parse_number(certificate_number: str) -> tuple[str, int]:
    """(centre, year) of a number, or NotFound: a malformed number names no certificate."""
    parts = certificate_number.split("/")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise unknown(certificate_number)
    return parts[0], int(parts[1])


def unknown(certificate_number: str) -> NotFound:
    return NotFound(f"no certificate {certificate_number} at this centre",
                    f"Không có chứng chỉ số {certificate_number} ở trung tâm này", code="certificate-unknown")


def issue(registry: Registry, centre: str, today: date, facts: ClassFacts, learner: LearnerInClass,
          verification_code: str, *, already: int = 0) -> CertificateIssued:
    """The next certificate of the registry; `already`: certificates decided earlier in the same decision."""
    return CertificateIssued(
        certificate_number=number(centre, today.year, registry.issued + already + 1),
        verification_code=verification_code, class_id=facts.class_id, learner_id=learner.learner_id,
        personal=learner.personal, programme_type=facts.programme_type,
        class_title=facts.title or learner.class_title, issued_on=today)


def decide_revoke(command: RevokeCertificate, registry: Registry) -> list[DomainEvent]:
    found = registry.certificates.get(command.certificate_number)
    if found is None:
        raise unknown(command.certificate_number)
    if found.revoked:
        raise Rejected(f"certificate {found.number} is already revoked", f"Chứng chỉ số {found.number} đã bị thu hồi",
                       code="certificate-revoked")
    return [CertificateRevoked(certificate_number=found.number, class_id=found.class_id,
                               learner_id=found.learner_id, reason=command.reason)]


def evolve(registry: Registry, event: DomainEvent) -> Registry:
    return fold(registry, [event])


def fold(registry: Registry, events: Iterable[DomainEvent]) -> Registry:
    """`evolve` over many events, the certificates copied once, not once per event: a centre's year is thousands
    of certificates, and each class finalised reads the ones issued since."""
    issued, certificates = registry.issued, dict(registry.certificates)
    for event in events:
        match event:
            case CertificateIssued(certificate_number=n, class_id=c, learner_id=learner):
                issued += 1
                certificates[n] = Certificate(n, _shared_class(c), learner.bytes)
            case CertificateRevoked(certificate_number=n) if n in certificates:
                certificates[n] = replace(certificates[n], revoked=True)
    return Registry(issued=issued, certificates=certificates)
