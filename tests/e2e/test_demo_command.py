"""`make demo` as a user runs it: self-contained, and it exits 0 only if every notice arrived signed."""
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_the_demo_command_passes_on_its_own_stack():
    done = subprocess.run([sys.executable, "-m", "ttct_dev.demo"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "PASS: 200 notices for 200 learners" in done.stdout
