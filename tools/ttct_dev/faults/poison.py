"""A bug for the poison-event scenario: notification's release with it cannot apply a ScoreRecorded of POISON
points (its handler raises), so that event is dead-lettered after CONSUMER_MAX_DELIVER attempts and its stream
parked; the fixed release (the same one without this module) applies it on `ttct.admin notification replay`. A
process runs with the bug when its PYTHONPATH starts with POISONED (its sitecustomize.py imports this module)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from notification.service_layer.projections import Projections

POISONED = Path(__file__).parent / "poisoned"
POISON = Decimal("9.9")

_scores_recorded = Projections.scores_recorded


async def _buggy(self, conn, items) -> None:
    # a run with the poison fails whole; the consumer then applies its events one by one, and only that one fails
    if any(Decimal(str(event.score)) == POISON for _, event in items):
        raise ValueError(f"the release with the bug cannot apply a score of {POISON}")
    await _scores_recorded(self, conn, items)


Projections.scores_recorded = _buggy
