"""The delivery and email logs, paged by a cursor, on real PostgreSQL: an attempt whose transaction commits after
a later one was listed is on the next page, not skipped for good (two deliveries are attempted at once all the
time: several workers, several replicas)."""
import json
import uuid
from datetime import datetime, timezone

import pytest
from notification.adapters import committed_order, delivery_log, emails
from notification.adapters.schema import SCHEMA
from ttct.operations.schema import migrate

pytestmark = pytest.mark.integration
ORG = "xa-hoa-loc"
NOW = datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)


async def _notice(pool) -> uuid.UUID:
    notice_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO notices (notice_id, notice_type, event_id, organisation_code, centre, body, recipient)"
        " VALUES ($1, 'enrolment.confirmed', $2, $3, 'hau-loc', $4, 'organisation')",
        notice_id, uuid.uuid4(), ORG, json.dumps({"notice_id": str(notice_id)}))
    return notice_id


async def _webhook_delivery(pool) -> uuid.UUID:
    endpoint_id, delivery_id = uuid.uuid4(), uuid.uuid4()
    await pool.execute("INSERT INTO webhook_endpoints (endpoint_id, organisation_code, url, secret)"
                       " VALUES ($1, $2, 'https://xahoaloc.example/hook', 'whsec_x')", endpoint_id, ORG)
    await pool.execute("INSERT INTO deliveries (delivery_id, notice_id, endpoint_id) VALUES ($1, $2, $3)",
                       delivery_id, await _notice(pool), endpoint_id)
    return delivery_id


async def _email_delivery(pool) -> uuid.UUID:
    delivery_id = uuid.uuid4()
    await pool.execute("INSERT INTO email_deliveries (delivery_id, notice_id, address) VALUES ($1, $2, $3)",
                       delivery_id, await _notice(pool), "vanphong@xahoaloc.example")
    return delivery_id


async def _attempt(conn, table: str, delivery_id: uuid.UUID, attempt_no: int) -> int:
    return await conn.fetchval(f"INSERT INTO {table} (delivery_id, attempt_no, attempted_at, outcome)"
                               " VALUES ($1, $2, $3, 'retry') RETURNING attempt_id", delivery_id, attempt_no, NOW)


@pytest.mark.parametrize("table", ["delivery_attempts", "email_attempts"])
async def test_an_attempt_committed_after_a_later_one_was_listed_is_on_the_next_page(pool, table):
    await migrate(pool, [*SCHEMA, *committed_order.SCHEMA])
    webhook = table == "delivery_attempts"
    delivery_id = await (_webhook_delivery if webhook else _email_delivery)(pool)

    async def page(after: int) -> list[dict]:
        if webhook:
            return await delivery_log.attempts(pool, ORG, after=after, limit=10)
        return await emails.for_organisation(pool, ORG, None, after, 10)

    async with pool.acquire() as slow:
        transaction = slow.transaction()
        await transaction.start()
        late = await _attempt(slow, table, delivery_id, 1)  # takes its attempt_id first, commits last
        quick = await _attempt(pool, table, delivery_id, 2)
        first = await page(0)
        assert [r["attempt_id"] for r in first] == [quick]
        await transaction.commit()
    assert late < quick
    cursor = first[-1]["log_position"]
    assert [r["attempt_id"] for r in await page(cursor)] == [late]
    # a client of the deprecated `after` (an attempt_id) resumes where it skips nothing either
    log = committed_order.WEBHOOK_ATTEMPTS if webhook else committed_order.EMAIL_ATTEMPTS
    assert [r["attempt_id"] for r in await page(await log.position_after(pool, quick))] == [late]
