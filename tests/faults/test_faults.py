"""Reduced runs of `make faults` (tools/ttct_dev/faults/): the services as processes under a steady load through
their HTTP APIs while a replica is killed, PostgreSQL goes away, or a publisher is upgraded before its readers.
Each asserts what the operator would check afterwards: every command answered 2xx is in the store once, verify
finds nothing missing or doubled, each organisation received each notice once, and the projections equal a
rebuild of them."""
from __future__ import annotations

import re

import asyncpg
import pytest

from ttct_dev.faults import checks, scenarios
from ttct_dev.faults.harness import World

pytestmark = pytest.mark.integration

RATE = 2.0  # learner flows a second: enough to have work in every replica's hands when the fault strikes


def _held(figures) -> None:
    assert (figures.lost, figures.doubled, figures.given_up) == (0, 0, 0), figures.problems
    assert figures.ok, figures.problems
    assert figures.accepted > 0 and figures.settled is not None
    assert figures.rebuilt_rows and figures.rebuild_differences == 0, figures.problems


async def test_a_killed_replica_of_each_commanded_service_loses_and_doubles_nothing(tmp_path):
    figures = await scenarios.killed_replicas(tmp_path, rate=RATE, quick=True,
                                              services=("enrolment", "assessment", "notification"))
    _held(figures)
    assert figures.recover is not None  # the survivors answered after each kill


async def test_while_postgresql_is_away_commands_get_503_and_afterwards_everything_recovers(tmp_path):
    figures = await scenarios.database_away(tmp_path, rate=RATE, quick=True, outage=8.0)
    _held(figures)
    assert figures.refused > 0  # 503 with Retry-After, checked by the scenario, which also checks readiness
    assert figures.recover is not None


async def test_events_of_a_publisher_upgraded_first_are_parked_and_applied_once_after_the_readers_upgrade(tmp_path):
    figures = await scenarios.rolling_upgrade(tmp_path, rate=RATE, quick=True)
    _held(figures)  # one notice per score, parked ones included; verify: nothing dead-lettered or unapplied
    parked = next(note for note in figures.notes if "parked by the old reader" in note)
    # the old reader parked streams on the new event type (each learner's score held behind it) and on the new
    # version; the scenario counts them from the dead letters' errors and reports a count of 0 as a problem
    counts = {cause: int(n) for n, cause in re.findall(r"(\d+) (unknown type \w+|newer \w+|held)", parked)}
    assert counts["unknown type ResultSchemePinned"] and counts["newer AttendanceRecorded"] and counts["held"], parked


async def test_a_projection_row_that_differs_from_its_rebuild_is_reported_and_the_rebuild_puts_it_right(tmp_path):
    async with World(tmp_path, "tampered", rate=RATE) as w:
        fleet = await w.start_fleet(replicas=1)
        scores = [await w.load.flow(n) for n in range(1, 4)]
        assert all(score is not None and score.accepted for score in scores)
        assert (await checks.verify(fleet))[0] == 0
        learner = scores[0].ids["learner_id"]
        conn = await asyncpg.connect(fleet.database("notification", direct=True))
        try:  # what a consumer applying an event twice, or a wrong one, would leave
            await conn.execute("UPDATE organisation_learners SET score = 0 WHERE learner_id = $1", learner)
        finally:
            await conn.close()
        found = await checks.rebuild_matches(fleet, ("notification",))
        assert not found.ok
        [difference] = found.differences
        assert difference.startswith("notification: organisation_learners [") and learner in difference
        tampered, rebuilt = difference.split(", after rebuild")
        assert '"score": "0.0"' in tampered and '"score": "0.0"' not in rebuilt
        again = await checks.rebuild_matches(fleet, ("notification",))
        assert again.ok and again.rows["notification"] > 0, again
