"""The console's merge of the four services' personal-data access logs: newest first across services, and paging
on that neither skips nor repeats a record, whichever service the next records come from."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console import access_log

pytestmark = pytest.mark.unit
START = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)


def _log(service: str, minutes: list[int]) -> list[dict]:
    """A service's records, numbered in time order, as its API answers them: newest first."""
    return [{"id": n + 1, "at": (START + timedelta(minutes=m)).isoformat(), "caller": f"{service}-caller",
             "role": "centre-staff", "action": "read", "route": "GET /v1/learners/{learner_id}/record",
             "learner_ids": ["3f2b6c1e-8d4a-4f0e-9b7a-1c2d3e4f5a6b"], "reason": None}
            for n, m in reversed(list(enumerate(minutes)))]


def _page(logs: dict[str, list[dict]], cursor: access_log.Cursor, size: int) -> dict[str, list[dict]]:
    """Each service's page as its API gives it: `size` records before the cursor's number, newest first."""
    return {s: [r for r in logs[s] if before is None or r["id"] < before][:size] for s, before in cursor.items()}


def test_pages_of_the_merged_logs_show_every_record_once_newest_first_in_vietnam_s_time():
    logs = {"scheduling": _log("scheduling", [1, 2]), "enrolment": _log("enrolment", [0, 3, 4, 5, 6, 9, 10]),
            "assessment": _log("assessment", [7, 8, 11]), "notification": []}
    cursor, seen = access_log.first_page(tuple(logs)), []
    while cursor:
        shown, cursor = access_log.merged(_page(logs, cursor, 3), 3)
        assert len(shown) <= 3
        seen += shown
        cursor = access_log.cursor_of(access_log.cursor_text(cursor), tuple(logs))  # as a link carries it
    assert [(a.service, a.at.strftime("%d/%m/%Y %H:%M")) for a in seen][:3] == [
        ("assessment", "05/12/2026 08:11"), ("enrolment", "05/12/2026 08:10"), ("enrolment", "05/12/2026 08:09")]
    assert sorted((a.service, a.number) for a in seen) == sorted(
        (s, r["id"]) for s, rows in logs.items() for r in rows)
    assert [a.at for a in seen] == sorted((a.at for a in seen), reverse=True)


def test_a_link_s_cursor_keeps_only_what_it_can_use():
    assert access_log.cursor_of("enrolment:812,assessment:x,mail:4,scheduling:0", ("enrolment", "assessment",
                                                                                    "scheduling")) == {"enrolment": 812}
    assert access_log.cursor_text({"enrolment": 812, "assessment": 40}) == "enrolment:812,assessment:40"


def test_a_route_without_words_shows_its_shape_not_its_placeholders():
    row = _log("enrolment", [0])[0] | {"route": "PUT /v1/centres/{centre}/classes/{class_id}/capacity"}
    shown, _ = access_log.merged({"enrolment": [row]}, 50)
    assert shown[0].route_shown == "PUT /v1/centres/…/classes/…/capacity"
