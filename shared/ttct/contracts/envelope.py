"""The envelope every domain event travels in, on the wire and in the event store.

The payload is the event's own contract (one module per event in this package); the envelope carries what
every event needs to be routed, deduplicated, ordered and traced.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
"""A province, centre or organisation code: a lowercase slug, safe as a NATS subject token."""


class DomainEvent(BaseModel):
    """Base of every event payload: frozen and versioned.

    A tolerant reader: fields it does not know are ignored, so a publisher may add an optional field before
    every reader knows it. Requests, not events, are where unknown fields are refused.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    context: ClassVar[str]
    """The bounded context (service) that publishes the event: the subject's fourth token."""


class EventMetadata(BaseModel):
    """Where an event belongs and what caused it: set by the service layer, never by the domain."""

    model_config = ConfigDict(frozen=True)

    province: Code
    centre: Code
    correlation_id: UUID
    causation_id: UUID | None = None
    traceparent: str | None = None
    tracestate: str | None = None


class Envelope(BaseModel):
    """An event as stored and published: JSON on the wire."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    event_type: str
    schema_version: int = Field(ge=1)
    occurred_at: datetime
    province: Code
    centre: Code
    stream_id: str
    stream_version: int = Field(ge=1)
    correlation_id: UUID
    causation_id: UUID | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    payload: dict[str, Any]

    @property
    def context(self) -> str:
        return self.stream_id.split(":", 1)[0]

    @property
    def subject(self) -> str:
        return f"ttct.{self.province}.{self.centre}.{self.context}.{self.event_type}"
