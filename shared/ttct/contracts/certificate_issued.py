"""CertificateIssued v2: a certificate was issued to a learner who passed (published by assessment).

`certificate_number` is `<centre>/<year>/<seq>` (seq per centre and year); `verification_code` is what anyone
may present to the public verification endpoint to learn whether the certificate is genuine.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from ttct.contracts.envelope import DomainEvent
from ttct.contracts.types import SealedPersonalData, VietnameseText


class CertificateIssued(DomainEvent):
    event_type: ClassVar[str] = "CertificateIssued"
    schema_version: ClassVar[int] = 2
    context: ClassVar[str] = "assessment"

    certificate_number: str
    verification_code: str
    class_id: UUID
    learner_id: UUID
    personal: SealedPersonalData
    """The learner's name, sealed with their key (copied from LearnerEnrolled): `ttct.privacy.personal`."""
    programme_type: str | None
    class_title: VietnameseText
    issued_on: date
