"""Small builders for the core's integration tests."""
from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

from ttct.contracts import ClassOpened, Envelope, EventMetadata
from ttct.eventsourcing.eventstore import make_envelopes


def class_opened(title: str = "Lớp Sơ cấp LLCT") -> ClassOpened:
    return ClassOpened(class_id=uuid4(), programme_type="so_cap_llct", title=title, capacity=30,
                       starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 20), venue="Hội trường")


def envelopes(stream_id: str, expected: int, count: int = 1, province: str = "thanh-hoa",
              centre: str = "hau-loc") -> list[Envelope]:
    meta = EventMetadata(province=province, centre=centre, correlation_id=uuid4())
    return make_envelopes(stream_id, expected, [class_opened(f"Lớp {expected + i}") for i in range(count)], meta,
                          now=datetime.now(UTC), new_id=uuid4)
