"""The learner registry against real PostgreSQL: one person (one identity key) is registered once, whichever of
several concurrent enrolments of them gets there first, and every one of them gets the same learner id."""
import asyncio
from uuid import uuid4

import pytest
from enrolment.adapters import views
from ttct.operations.schema import migrate

pytestmark = pytest.mark.integration


async def test_concurrent_first_enrolments_of_the_same_people_agree_on_their_ids(pool):
    await migrate(pool, views.SCHEMA)
    keys = [f"nid:{uuid4().hex}" for _ in range(10)]
    answers = await asyncio.gather(*(views.learner_ids_for(pool, keys, [uuid4() for _ in keys]) for _ in range(8)))
    assert all(answer == answers[0] for answer in answers) and len(answers[0]) == 10
    assert await pool.fetchval("SELECT count(*) FROM learners WHERE identity_key = ANY($1::text[])", keys) == 10
    # a key already another learner's alias is that learner, not a new registration
    await views.remember_aliases(pool, [("card:AB1234", answers[0][keys[0]])])
    assert await views.learner_ids_for(pool, ["card:AB1234"], [uuid4()]) == {"card:AB1234": answers[0][keys[0]]}
