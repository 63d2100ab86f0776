"""When two sessions clash: the same lecturer or the same venue booked at overlapping times on the same day.

The rule lives here; PostgreSQL enforces the very same rule province-wide with an exclusion constraint on the
bookings table (adapters/bookings.py), which is what makes it hold under concurrent requests.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from uuid import UUID

from ttct.domain.errors import Invalid, Rejected


class Resource(StrEnum):
    lecturer = "lecturer"
    venue = "venue"


@dataclass(frozen=True)
class Slot:
    """A session's time: one day, [starts_at, ends_at) — a session ending at 10:00 and one starting at 10:00 do
    not clash."""

    on: date
    starts_at: time
    ends_at: time

    def __post_init__(self) -> None:
        if self.ends_at <= self.starts_at:
            raise Invalid(f"a session must end after it starts ({self.starts_at:%H:%M}–{self.ends_at:%H:%M})",
                          f"Buổi học phải kết thúc sau giờ bắt đầu ({self.starts_at:%H:%M}–{self.ends_at:%H:%M})",
                          code="session-slot-invalid")

    def overlaps(self, other: Slot) -> bool:
        return self.on == other.on and self.starts_at < other.ends_at and other.starts_at < self.ends_at

    def describe(self) -> str:
        return f"{self.on:%d/%m/%Y} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


def resource_key(kind: Resource, ident: UUID | str, centre: str | None = None) -> str:
    """The key a booking holds: a lecturer by id (province-wide), a venue by its centre and name."""
    return f"lecturer:{ident}" if kind is Resource.lecturer else f"venue:{centre}:{ident}"


@dataclass(frozen=True)
class Booking:
    """A resource held by a scheduled session."""

    kind: Resource
    key: str
    label: str  # the lecturer's name or the venue's name
    session_id: UUID
    centre: str
    class_title: str
    slot: Slot


def find_clash(kind: Resource, key: str, slot: Slot, bookings: list[Booking]) -> Booking | None:
    """The first booking of the same resource at an overlapping time, if any."""
    return next((b for b in bookings if b.kind is kind and b.key == key and b.slot.overlaps(slot)), None)


def clash_refusal(clashing: Booking) -> Rejected:
    """A refusal naming the session already holding the lecturer or venue: its class, date and time."""
    when = clashing.slot.describe()
    if clashing.kind is Resource.lecturer:
        en = (f"lecturer {clashing.label} already teaches at that time: {clashing.class_title!r} "
              f"({clashing.centre}) on {when}")
        vi = (f"Giảng viên {clashing.label} đã có lịch giảng trùng giờ: lớp {clashing.class_title!r} "
              f"({clashing.centre}) {when}")
        code = "lecturer-clash"
    else:
        en = f"venue {clashing.label} is already booked at that time: {clashing.class_title!r} on {when}"
        vi = f"Địa điểm {clashing.label} đã được xếp lịch trùng giờ: lớp {clashing.class_title!r} {when}"
        code = "venue-clash"
    return Rejected(en, vi, code=code, clashing_session={
        "session_id": str(clashing.session_id), "centre": clashing.centre, "class_title": clashing.class_title,
        "session_date": clashing.slot.on.isoformat(), "starts_at": clashing.slot.starts_at.isoformat("minutes"),
        "ends_at": clashing.slot.ends_at.isoformat("minutes"), "resource": clashing.kind.value,
        "resource_name": clashing.label})
