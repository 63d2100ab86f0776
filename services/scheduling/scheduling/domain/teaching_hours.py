"""Lecturers' teaching hours: what each lecturer taught at a centre, per month and for the year, from the sessions
actually held, so that part-time lecturers and collaborators can be paid and the centre can report its teaching.

A session counts once it has ended (by the clock the caller gives) and was not cancelled. Hours are clock hours;
periods (tiết) are the 45-minute units that the payment rules for lecturers count in.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from ttct.domain.names import name_sort_key

PERIOD_MINUTES = 45
_CENTI = Decimal("0.01")


@dataclass(frozen=True)
class TaughtSession:
    lecturer_id: UUID
    lecturer_name: str
    session_date: date
    starts_at: time
    ends_at: time

    @property
    def minutes(self) -> int:
        return (self.ends_at.hour * 60 + self.ends_at.minute) - (self.starts_at.hour * 60 + self.starts_at.minute)


@dataclass(frozen=True)
class Taught:
    """Sessions, minutes, and the hours and periods they make."""
    sessions: int = 0
    minutes: int = 0

    def __add__(self, other: Taught) -> Taught:
        return Taught(self.sessions + other.sessions, self.minutes + other.minutes)

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(_CENTI, ROUND_HALF_UP)

    @property
    def periods(self) -> Decimal:
        return (Decimal(self.minutes) / PERIOD_MINUTES).quantize(_CENTI, ROUND_HALF_UP)


@dataclass(frozen=True)
class LecturerHours:
    lecturer_id: UUID
    full_name: str
    kind: str | None  # None: not (or no longer) in the province's register
    total: Taught
    by_month: tuple[tuple[int, Taught], ...]  # (month, what was taught in it), months with teaching only


def held(sessions: Iterable[TaughtSession], now: datetime) -> list[TaughtSession]:
    """The sessions that have ended by `now` (Vietnam's local time, as sessions are scheduled in it)."""
    return [s for s in sessions if datetime.combine(s.session_date, s.ends_at) <= now]


def tally(sessions: Iterable[TaughtSession], kinds: Mapping[UUID, tuple[str, str]]) -> list[LecturerHours]:
    """Each lecturer's teaching, sorted the Vietnamese way by name. `kinds` maps a lecturer to their registered
    (full name, kind); a lecturer missing from it keeps the name their sessions carry."""
    months: dict[UUID, dict[int, Taught]] = defaultdict(lambda: defaultdict(Taught))
    names: dict[UUID, str] = {}
    for s in sessions:
        months[s.lecturer_id][s.session_date.month] += Taught(1, s.minutes)
        names[s.lecturer_id] = s.lecturer_name
    result = []
    for lecturer_id, by_month in months.items():
        name, kind = kinds.get(lecturer_id, (names[lecturer_id], None))
        ordered = tuple(sorted(by_month.items()))
        result.append(LecturerHours(lecturer_id, name, kind, sum((t for _, t in ordered), Taught()), ordered))
    return sorted(result, key=lambda h: (name_sort_key(h.full_name), str(h.lecturer_id)))


def by_kind(hours: Iterable[LecturerHours]) -> dict[str | None, Taught]:
    """The teaching of each kind of lecturer (in-house, part-time, collaborator, party leader)."""
    totals: dict[str | None, Taught] = defaultdict(Taught)
    for h in hours:
        totals[h.kind] += h.total
    return dict(totals)
