"""The console's server-drawn charts: what a reader of the image's text alternative and a sighted reader both get."""
from __future__ import annotations

import re

import pytest

from console import charts

pytestmark = pytest.mark.unit


def test_bars_are_scaled_to_the_largest_and_said_in_the_text_alternative():
    drawn = str(charts.bars("places", "Lượt học viên", [("hau-loc", 4), ("nga-son", 2), ("<x>", None)]))
    widths = [int(w) for w in re.findall(r'<rect x="\d+" y="\d+" width="(\d+)"', drawn)]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    assert '<desc id="places-d">hau-loc: 4; nga-son: 2; &lt;x&gt;: –</desc>' in drawn  # labels escaped
    assert 'role="img" aria-labelledby="places-t places-d"' in drawn and "<script" not in drawn


def test_a_rate_is_drawn_against_the_whole_and_a_stacked_bar_splits_by_share():
    rate = str(charts.bars("rate", "Tỷ lệ đạt", [("hau-loc", 0.5)], percent=True))
    assert "50,0%" in rate
    [half] = [int(w) for w in re.findall(r'<rect x="\d+" y="\d+" width="(\d+)"', rate)]
    assert half == (charts.WIDTH - charts.LABEL - 70) // 2
    stacked = str(charts.stacked("grades", "Xếp loại", [("hau-loc", [1, 3, 0])], ["Giỏi", "Khá", "Trung bình"]))
    bar = rf'<rect x="\d+" y="\d+" width="(\d+)" height="{charts.BAR - 4}"'
    parts = [int(w) for w in re.findall(bar, stacked)]
    assert len(parts) == 2 and abs(parts[1] - 3 * parts[0]) <= 2  # an empty part draws nothing
    assert "hau-loc: Giỏi 1, Khá 3, Trung bình 0" in stacked
