"""The next release, for the rolling-upgrade scenario: a new event type and a new schema version that the running
readers do not know.

- ResultSchemePinned v1, a new event type: assessment's next release says, in a learner's result stream and before
  the learner's first ScoreRecorded, which assessment scheme the learner's results are pinned to. A reader of the
  old release cannot read it and parks the stream behind it, the score after it held; a reader of the new release
  reads it and, having nothing to do with it (notification keeps no schemes), moves its checkpoint past it.
- AttendanceRecorded v3: what v2 carries (a release that only says "v3" is the smallest change a reader of v2
  cannot read); a v2 is read as v3 unchanged.

A process runs this release when its PYTHONPATH starts with UPGRADED: Python imports that directory's
sitecustomize.py at start-up, which calls `install`; so neither the services nor ttct.admin carry any hook for it,
and importing this module (as the harness does, for UPGRADED) changes nothing."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar
from uuid import UUID

from ttct.contracts import EVENTS, UPCASTERS, DomainEvent
from ttct.contracts.attendance_recorded import AttendanceRecorded

UPGRADED = Path(__file__).parent / "upgraded"
NEW_VERSIONS = (AttendanceRecorded,)


class ResultSchemePinned(DomainEvent):
    event_type: ClassVar[str] = "ResultSchemePinned"
    schema_version: ClassVar[int] = 1
    context: ClassVar[str] = "assessment"

    class_id: UUID
    learner_id: UUID
    scheme_version: str
    """`code@version` of the scheme every later score of this learner in this class is recorded under."""


NEW_TYPES = (ResultSchemePinned,)


def install() -> None:
    """This process runs the next release (once, at start-up)."""
    from assessment.domain import results

    for contract in NEW_TYPES:
        EVENTS[contract.event_type] = contract
    for contract in NEW_VERSIONS:
        UPCASTERS[(contract.event_type, contract.schema_version)] = lambda payload: payload
        contract.schema_version += 1  # what this release writes, and reads
    decide_record = results.decide_record

    def decide_record_pinning(command, learner, result, *args, **kwargs) -> list[DomainEvent]:
        events = decide_record(command, learner, result, *args, **kwargs)
        if events and result.scheme_version is None:  # the learner's first score pins the scheme
            return [ResultSchemePinned(class_id=learner.class_id, learner_id=learner.learner_id,
                                       scheme_version=events[0].scheme_version), *events]
        return events

    results.decide_record = decide_record_pinning
