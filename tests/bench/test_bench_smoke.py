"""`make bench --quick` as a smoke test of the harness: it runs end to end on its own private stack and writes
both files with every scenario. Not a measurement, and not part of `make test` (marked bench)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.bench

SCENARIOS = ["1 single commands", "2 bulk: organisation list", "2 bulk: province year", "3 rebuild",
             "4 growth: 1 centre, store empty", "4 growth: 3 centres, store 5,000 events",
             "5 peer: saves, 1 thread", "5 peer: saves, 8 threads", "5 peer: catch-up",
             "7 console: 4 staff at once, 0.2 s on each page", "7 console: 4 staff at once, no pause between pages"]


def test_quick_run_writes_every_scenario(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ttct_dev.bench", "--quick", "--output-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=1800)
    assert (tmp_path / "benchmarks.json").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((tmp_path / "benchmarks.json").read_text())
    markdown = (tmp_path / "benchmarks.md").read_text()

    for name in SCENARIOS:
        scenario = results["scenarios"][name]
        assert scenario["runs"], f"{name}: {scenario.get('error')}"
        assert f"### {name}" in markdown
    assert results["scenarios"]["3 rebuild"]["runs"][0]["rebuild_events_count"] == 5_000
    assert results["scenarios"]["3 rebuild"]["runs"][0]["rebuild_out_of_order_count"] == 0
    year = results["scenarios"]["2 bulk: province year"]
    assert year["runs"][0]["year_score_errors_count"] == 0  # every class's grid stored and the class finalised
    assert any("scores/batch" in note for note in year["notes"])
    assert any(t["target"].startswith("latency flat: 3 centres") for t in results["targets"])
    console = results["scenarios"]["7 console: 4 staff at once, no pause between pages"]["runs"][0]
    assert console["errors_count"] == 0 and console["pages_count"] == 4 * 6 and console["largest_page_kb"] > 1
    assert 0 < console["class_page_p95_ms"] <= console["class_page_client_p95_ms"]  # the server's time, and the client's
    assert results["machine"]["cores_logical"] and results["machine"]["postgresql"]["fsync"] == "on"
    assert set(results["rss_peak_bytes"]) >= {"scheduling", "enrolment", "assessment", "notification"}
    assert {t["figure"] for t in results["targets"]} >= {"closed_pipeline_per_s", "rebuild_per_s", "worst_page_p95_ms"}
    assert "## Machine" in markdown and "| figure | unit | median | min | max |" in markdown
