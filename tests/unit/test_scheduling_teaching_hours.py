"""Teaching hours from sessions: pure rules, no clock but the one given."""
from datetime import date, datetime, time
from decimal import Decimal
from uuid import uuid4

import pytest
from scheduling.domain.teaching_hours import TaughtSession, by_kind, held, tally

pytestmark = pytest.mark.unit
XUAN, AN, GONE = uuid4(), uuid4(), uuid4()


def taught(who, day, start, end, name="—"):
    return TaughtSession(who, name, date.fromisoformat(day), time.fromisoformat(start), time.fromisoformat(end))


def test_a_session_counts_once_it_has_ended():
    morning = taught(XUAN, "2026-12-04", "07:30", "11:00")
    assert held([morning], datetime(2026, 12, 4, 10, 59)) == []
    assert held([morning], datetime(2026, 12, 4, 11, 0)) == [morning]


def test_hours_and_periods_per_month_sorted_the_vietnamese_way():
    sessions = [taught(XUAN, "2026-11-03", "07:30", "11:00"), taught(XUAN, "2026-12-01", "07:30", "09:45"),
                taught(AN, "2026-11-05", "13:30", "16:30"), taught(GONE, "2026-10-01", "07:00", "07:45", "Võ Văn Bé")]
    kinds = {XUAN: ("Trần Thị Xuân", "collaborator"), AN: ("Lê Văn An", "party_leader")}
    hours = tally(sessions, kinds)
    assert [h.full_name for h in hours] == ["Lê Văn An", "Võ Văn Bé", "Trần Thị Xuân"]  # An, Bé, Xuân
    xuan = hours[2]
    assert (xuan.total.sessions, xuan.total.hours, xuan.total.periods) == (2, Decimal("5.75"), Decimal("7.67"))
    assert [(m, t.minutes) for m, t in xuan.by_month] == [(11, 210), (12, 135)]
    assert hours[1].kind is None and hours[1].total.periods == Decimal("1.00")
    assert {k: t.sessions for k, t in by_kind(hours).items()} == {"party_leader": 1, None: 1, "collaborator": 2}
