"""The programme demo's scenario (`make demo-programme`) on the session's running services: a whole programme
from the plan to the year's figures, every step checked by the scenario itself (it raises DemoFailed)."""
import subprocess
import sys
import uuid

import pytest

from ttct_dev.programme_demo import CAPACITY, play

pytestmark = pytest.mark.e2e


async def test_a_whole_programme_from_the_plan_to_the_year_s_figures(services, issuer):
    # a centre of its own, so the figures the scenario checks exactly are not shared with the session's other tests
    story = await play(services.urls, issuer, centre=f"hau-loc-{uuid.uuid4().hex[:6]}")
    assert len(story.learners) == CAPACITY and len(story.certificates) == 4
    total = story.figures["total"]
    assert (total["classes"], total["places"], total["results"]["passed"]) == (2, CAPACITY, 4)
    assert total["results"]["pass_rate"] == round(4 / 6, 4)


def test_the_programme_demo_command_passes_on_its_own_stack():
    done = subprocess.run([sys.executable, "-m", "ttct_dev.programme_demo"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "409 lecturer-clash" in done.stdout and "PASS: a whole programme" in done.stdout
