"""The notices log, paged by a cursor, on real PostgreSQL: a notice whose transaction commits late is not skipped."""
import json
import uuid

import pytest
from notification.adapters import notices
from notification.adapters.schema import SCHEMA
from ttct.operations.schema import migrate

pytestmark = pytest.mark.integration
ORG = "xa-hoa-loc"


async def _notice(conn, recipient="organisation") -> uuid.UUID:
    notice_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO notices (notice_id, notice_type, event_id, organisation_code, centre, body, recipient)"
        " VALUES ($1, 'enrolment.confirmed', $2, $3, 'hau-loc', $4, $5)",
        notice_id, uuid.uuid4(), ORG, json.dumps({"notice_id": str(notice_id)}), recipient)
    return notice_id


async def test_a_notice_committed_after_a_later_one_was_listed_is_on_the_next_page(pool):
    await migrate(pool, SCHEMA)
    async with pool.acquire() as slow:
        transaction = slow.transaction()
        await transaction.start()
        late = await _notice(slow, recipient="head")  # takes its position first, commits last
        quick = await _notice(pool)
        first = await notices.list_for(pool, ORG, 0, 10)
        assert [r["notice_id"] for r in first] == [quick]
        await transaction.commit()
    cursor = first[-1]["feed_position"]
    assert [r["notice_id"] for r in await notices.list_for(pool, ORG, cursor, 10)] == [late]
    # a client of the deprecated `after` (a position) resumes where it skips nothing either
    assert await notices.feed_position_of(pool, ORG, 0) == 0
