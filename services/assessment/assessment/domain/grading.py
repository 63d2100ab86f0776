"""Grade bands on the 10-point scale (BRIEF.md defaults)."""
from __future__ import annotations

from decimal import Decimal

from ttct.contracts.types import GradeBand

DEFAULT_BANDS: tuple[tuple[Decimal, GradeBand], ...] = (
    (Decimal("9.0"), GradeBand.xuat_sac),
    (Decimal("8.0"), GradeBand.gioi),
    (Decimal("7.0"), GradeBand.kha),
    (Decimal("5.0"), GradeBand.trung_binh),
)


def grade_band(score: Decimal, bands: tuple[tuple[Decimal, GradeBand], ...] = DEFAULT_BANDS) -> GradeBand:
    for floor, band in bands:
        if score >= floor:
            return band
    return GradeBand.khong_dat
