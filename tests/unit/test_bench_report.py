"""The benchmark's report when one scenario is measured again beside the figures of an earlier run."""
import json

import pytest
from ttct_dev.bench import report

pytestmark = pytest.mark.unit
MIB = 2**20


def test_a_scenario_measured_again_reports_this_run_s_memory_and_keeps_the_others_with_their_run(tmp_path):
    earlier = {"machine": {"git": "aaaa111", "started_at": "2026-12-01 10:00:00 UTC"},
               "scenarios": {"7 console": {"runs": [{"worst_page_p95_ms": 48.1}], "notes": []},
                             "2 bulk: province year": {"runs": [{"year_total_s": 783.0}], "notes": []}},
               "cpu_seconds": {"7 console": {"console": 12.0}},
               "rss_peak_bytes": {"enrolment": 784 * MIB, "console": 90 * MIB}}
    (tmp_path / "benchmarks.json").write_text(json.dumps(earlier))
    now = {"scenarios": {"2 bulk: province year": {"runs": [{"year_total_s": 400.0}], "notes": []}},
           "cpu_seconds": {}, "rss_peak_bytes": {"enrolment": 170 * MIB}}

    report.keep_others(now, tmp_path)

    # the year is this run's; the console's scenario is kept, marked with the run it came from
    assert now["scenarios"]["2 bulk: province year"]["summary"]["year_total_s"]["median"] == 400.0
    assert now["scenarios"]["7 console"]["from_run"]["git"] == "aaaa111"
    # enrolment ran now: its peak is this run's, not the larger one an older code reached
    assert now["rss_peak_bytes"] == {"enrolment": 170 * MIB, "console": 90 * MIB}
