"""Published event contracts: one module per event, and the registry that reads them back.

Reading goes through `read_event`, which upcasts stored or received older versions, so handlers only ever see
the current version of a contract.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from ttct.contracts.class_opened import ClassOpened, upcast_class_opened_v1
from ttct.contracts.envelope import DomainEvent, Envelope, EventMetadata
from ttct.contracts.learner_enrolled import LearnerEnrolled
from ttct.contracts.score_recorded import ScoreRecorded
from ttct.contracts.session_scheduled import upcast_session_count_v1
from ttct.contracts.types import upcast_dispatch_decision, upcast_personal_v1, upcast_profile


def _discover() -> dict[str, type[DomainEvent]]:
    """Every contract module in this package registers itself: adding an event is adding its module."""
    found: dict[str, type[DomainEvent]] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name in ("envelope", "types"):
            continue
        namespace = importlib.import_module(f"{__name__}.{module.name}")
        for value in vars(namespace).values():
            if (isinstance(value, type) and issubclass(value, DomainEvent) and value is not DomainEvent
                    and value.__module__ == namespace.__name__ and "event_type" in vars(value)):
                if value.event_type in found:
                    raise RuntimeError(f"two contracts named {value.event_type}")
                found[value.event_type] = value
    return dict(sorted(found.items()))


EVENTS: dict[str, type[DomainEvent]] = _discover()

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    # v2 seals the learner's name and birth date (issue 7): see types.upcast_personal_v1 and docs/security.md
    **{(name, 1): upcast_personal_v1 for name in (
        "AttendanceRecorded", "CertificateIssued", "EligibilityLost", "LearnerEnrolled", "LearnerResultFinalised",
        "LearnerWaitlisted", "LearnerWithdrawn", "ScoreRecorded")},
    # v2 tells the class's plan apart from the sessions scheduled so far: see session_scheduled.py
    **{(name, 1): upcast_session_count_v1 for name in ("SessionScheduled", "SessionCancelled")},
    # v3 may cite the organisation's dispatch decision (quyết định cử đi học); v2 cited none
    **{(name, 2): upcast_dispatch_decision for name in ("LearnerEnrolled", "LearnerWaitlisted")},
    # v4 may carry the learner's sealed profile (gender, position, party admission, party card); v3 carried none
    **{(name, 3): upcast_profile for name in ("LearnerEnrolled", "LearnerWaitlisted")},
    # v2 says whether the programme requires enrolments to cite a dispatch decision; v1 classes did not
    ("ClassOpened", 1): upcast_class_opened_v1,
}
"""(event_type, from_version) -> function turning that version's payload into the next version's."""


class UnknownEvent(ValueError):
    pass


# Where `decided` keeps an envelope's event: a key of the envelope's __dict__ that is not a field, which pydantic's
# equality, dumps and repr leave out (as they do a cached_property's value).
_DECIDED = "_ttct_decided_event"


def decided(envelope: Envelope, event: DomainEvent) -> Envelope:
    """`envelope`, just made of `event` by this process, read back as `event` itself: the write path projects
    what it appends, and validating the payload `event` was dumped to would give an equal event at ~5 µs each."""
    envelope.__dict__[_DECIDED] = event
    return envelope


def read_event(envelope: Envelope) -> DomainEvent:
    """The envelope's payload as the current version of its contract."""
    event = envelope.__dict__.get(_DECIDED)
    if event is not None:
        return event
    contract = EVENTS.get(envelope.event_type)
    if contract is None:
        raise UnknownEvent(f"unknown event type {envelope.event_type!r}")
    payload, version = envelope.payload, envelope.schema_version
    while version < contract.schema_version:
        payload = UPCASTERS[(envelope.event_type, version)](payload)
        version += 1
    if version != contract.schema_version:
        raise UnknownEvent(f"{envelope.event_type} v{envelope.schema_version} is newer than this reader")
    # its validator itself: `model_validate` is the same validation behind a Python layer that costs a few
    # tenths of a microsecond, and every event a consumer or a rebuild reads passes here
    return contract.__pydantic_validator__.validate_python(payload)


__all__ = [
    "EVENTS", "UPCASTERS", "ClassOpened", "DomainEvent", "Envelope", "EventMetadata", "LearnerEnrolled",
    "ScoreRecorded", "UnknownEvent", "decided", "read_event",
]
