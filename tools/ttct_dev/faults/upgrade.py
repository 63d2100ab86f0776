"""The next release's contracts, for the rolling-upgrade scenario: ScoreRecorded and AttendanceRecorded v3.

v3 carries what v2 carries (a release that only says "v3" is the smallest change a reader of v2 cannot read, which
is what the scenario needs); a v2 is read as v3 unchanged. A process runs with it when its PYTHONPATH starts with
UPGRADED (Python imports that directory's sitecustomize.py at start-up, which imports this module), so neither the
services nor ttct.admin carry any hook for it."""
from __future__ import annotations

from pathlib import Path

from ttct.contracts import UPCASTERS
from ttct.contracts.attendance_recorded import AttendanceRecorded
from ttct.contracts.score_recorded import ScoreRecorded

UPGRADED = Path(__file__).parent / "upgraded"
NEW = (ScoreRecorded, AttendanceRecorded)

for contract in NEW:  # this module is imported once per process
    UPCASTERS[(contract.event_type, contract.schema_version)] = lambda payload: payload
    contract.schema_version += 1  # what this release writes, and reads
