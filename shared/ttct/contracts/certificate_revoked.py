"""CertificateRevoked v1: a certificate is no longer valid, e.g. replaced by one issued after a re-sit
(published by assessment). Verification answers "not genuine" for it from then on."""
from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from ttct.contracts.envelope import DomainEvent


class CertificateRevoked(DomainEvent):
    event_type: ClassVar[str] = "CertificateRevoked"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "assessment"

    certificate_number: str
    class_id: UUID
    learner_id: UUID
    reason: str
