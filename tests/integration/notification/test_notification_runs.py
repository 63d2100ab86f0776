"""Runs of events applied by notification's batched handlers (an organisation's list of enrolments, a class's
scores, a roll call, a class's final results) leave what the same events applied one at a time leave: the same
rows, the same notices (ids, addressees, bodies, order), the same webhook and email deliveries with their first
statuses (digest mode), a merged organisation's notices with its successor, a learner of a class cancelled before
the enrolment told once. Applied again, a run adds nothing. Against real PostgreSQL, two databases side by side."""
from __future__ import annotations

import json
import uuid
from datetime import date

import asyncpg
import pytest
from notification_helpers import Course
from ttct import centres
from ttct.contracts import Envelope, read_event
from ttct.contracts.types import GradeBand
from ttct.eventsourcing.consumer import call_handler, is_batched
from ttct.privacy.personal import KeyRing, KeyVault
from ttct_dev.stack import database_url, ensure_databases

from notification.adapters import committed_order
from notification.adapters.schema import SCHEMA
from notification.entrypoints.consumers import projections
from notification.service_layer.projections import Projections

pytestmark = pytest.mark.integration

HOA_LOC, HUYEN_DOAN, XA_CU = "xa-hoa-loc", "huyen-doan", "xa-cu"  # xa-cu was merged into xa-hoa-loc in 2020
ENDPOINTS = {HOA_LOC: uuid.UUID(int=1), HUYEN_DOAN: uuid.UUID(int=2)}
CONTACTS = {HOA_LOC: [{"name": "Văn phòng Đảng ủy", "email": "vanphong@hoaloc.vn", "is_head": False},
                      {"name": "Lê Văn Bí", "email": "bithu@hoaloc.vn", "is_head": True}],
            HUYEN_DOAN: [{"name": "Văn phòng Huyện đoàn", "email": "vanphong@huyendoan.vn", "is_head": False}]}

STATE = {
    "notices": "SELECT notice_id, notice_type, event_id, organisation_code, centre, class_id, learner_id, body,"
               " recipient FROM notices ORDER BY position",
    "deliveries": "SELECT notice_id, endpoint_id, status FROM deliveries ORDER BY notice_id, endpoint_id",
    "emails": "SELECT notice_id, address, contact_name, status FROM email_deliveries ORDER BY notice_id, address",
    "learners": "SELECT organisation_code, class_id, learner_id, full_name, date_of_birth, seat_number, enrolled_at,"
                " score, grade_band, scored_at, status FROM organisation_learners ORDER BY 1, 2, 3",
    "organisations": "SELECT code, name, updated_at FROM organisations ORDER BY code",
    "attendance": "SELECT * FROM attendance ORDER BY 1, 2, 3",
    "final_results": "SELECT * FROM final_results ORDER BY 1, 2",
    "told": "SELECT class_id, learner_id, notice_type, event_id FROM learners_told ORDER BY 1, 2, 3",
}


@pytest.fixture
async def databases(admin_url):
    names = [f"notif_runs_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    await ensure_databases(admin_url, names)
    pools = [await asyncpg.create_pool(database_url(admin_url, name), min_size=1, max_size=2) for name in names]
    for pool in pools:
        async with pool.acquire() as conn:
            for statement in [*SCHEMA, *committed_order.SCHEMA, *centres.SCHEMA]:
                await conn.execute(statement)
            await conn.executemany("INSERT INTO organisations (code, name, updated_at, contacts)"
                                   " VALUES ($1, $2, now() - interval '1 day', $3::jsonb)",
                                   [(code, f"Đảng ủy {code}", json.dumps(contacts))
                                    for code, contacts in CONTACTS.items()])
            await conn.executemany("INSERT INTO webhook_endpoints (endpoint_id, organisation_code, url, secret)"
                                   " VALUES ($2, $1, 'https://example.invalid/' || $1, 'whsec_x')",
                                   list(ENDPOINTS.items()))
            await conn.execute("INSERT INTO channel_preferences (organisation_code, channel, mode)"
                               " VALUES ($1, 'webhook', 'digest'), ($2, 'email', 'digest')", HUYEN_DOAN, HOA_LOC)
            await conn.execute("INSERT INTO organisation_successions VALUES ($1, $2, 'merged', $3, '{}',"
                               " now() - interval '1 day')", XA_CU, HOA_LOC, date(2020, 1, 1))
        await KeyVault(pool).migrate()  # the learners' names here are v1 (clear): no key, none needed
    yield pools
    for pool in pools:
        await pool.close()
    conn = await asyncpg.connect(admin_url)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _handlers(pool) -> dict:
    by_context = projections(Projections(email=True, keyring=KeyRing(KeyVault(pool))))
    return {event_type: handler for handlers in by_context.values() for event_type, handler in handlers.items()}


async def _one_by_one(pool, envelopes: list[Envelope]) -> None:
    handlers = _handlers(pool)
    for env in envelopes:
        async with pool.acquire() as conn, conn.transaction():
            event = read_event(env)
            await call_handler(handlers[type(event)], conn, env, event)


async def _in_runs(pool, envelopes: list[Envelope]) -> int:
    """As the consumer applies a batch: consecutive events of one batched handler as a run, in one transaction.
    Returns the longest run."""
    handlers, longest, i = _handlers(pool), 0, 0
    async with pool.acquire() as conn, conn.transaction():
        while i < len(envelopes):
            handler = handlers[type(read_event(envelopes[i]))]
            j = i + 1
            while j < len(envelopes) and handlers[type(read_event(envelopes[j]))] is handler:
                j += 1
            if is_batched(handler):
                await handler(conn, [(env, read_event(env)) for env in envelopes[i:j]])
                longest = max(longest, j - i)
            else:
                for env in envelopes[i:j]:
                    await handler(conn, env, read_event(env))
            i = j
    return longest


async def _state(pool) -> dict[str, list[dict]]:
    return {name: [dict(r) for r in await pool.fetch(query)] for name, query in STATE.items()}


async def test_runs_of_events_leave_what_one_by_one_leaves_and_add_nothing_when_applied_again(databases, province):
    one, runs = databases
    course, cancelled = Course(province), Course(province, title="Lớp Trung cấp lý luận chính trị khóa 2")
    before = [course.opened(), cancelled.opened(), cancelled.join("Nguyễn Văn An", HOA_LOC), cancelled.cancel()]
    for pool in databases:
        await _one_by_one(pool, before)
    session, other_session = uuid.uuid4(), uuid.uuid4()
    roster = [course.join("Trần Thị Mai", HOA_LOC), course.join("Phạm Văn Hùng", HUYEN_DOAN, "Huyện đoàn Hậu Lộc"),
              course.join("Đỗ Thị Lan", XA_CU, "Đảng ủy xã Cũ"),
              cancelled.join("Lê Thị Chờ", HUYEN_DOAN, "Huyện đoàn Hậu Lộc", waitlisted=True),
              cancelled.join("Lê Thị Chờ", HUYEN_DOAN, "Huyện đoàn Hậu Lộc", promoted=True),
              cancelled.join("Vũ Văn Muộn", HOA_LOC), course.join("Hoàng Thị Chờ", HOA_LOC, waitlisted=True)]
    scores = [course.score(0, "8.5"), course.score(1, "6.0", GradeBand.trung_binh), course.score(2, "9.0"),
              course.score(0, "9.5", GradeBand.xuat_sac)]
    roll_call = [course.attendance(0, "absent", session), course.attendance(1, "present", session),
                 course.attendance(0, "absent", session), course.attendance(1, "absent", session),
                 course.attendance(2, "absent", other_session)]
    final = course.finalise({0: ("9.5", "xuat_sac", "SC-001"), 1: (None, None, None), 2: ("9.0", "gioi", "SC-002")})
    events = roster + scores + roll_call + final

    await _one_by_one(one, events)
    assert await _in_runs(runs, events) == len(roster)
    expected = await _state(one)
    assert await _state(runs) == expected

    # what the events say happened, whichever way they were applied
    notices = expected["notices"]
    assert [n["organisation_code"] for n in notices if n["learner_id"] == course.learners[2][0]
            and n["notice_type"] == "enrolment.confirmed"] == [HOA_LOC], "the merged organisation's successor"
    late = [json.loads(n["body"])["data"]["learners"] for n in notices if n["notice_type"] == "class.cancelled"]
    assert sorted(x["full_name"] for learners in late for x in learners) == ["Lê Thị Chờ", "Nguyễn Văn An",
                                                                              "Vũ Văn Muộn"]
    assert {d["status"] for d in expected["deliveries"] if d["endpoint_id"] == ENDPOINTS[HUYEN_DOAN]} == {"held"}
    assert {d["status"] for d in expected["deliveries"] if d["endpoint_id"] == ENDPOINTS[HOA_LOC]} == {"pending"}
    assert "held" in {m["status"] for m in expected["emails"] if m["address"].endswith("hoaloc.vn")}
    absent = [json.loads(n["body"])["data"]["full_name"] for n in notices
              if n["notice_type"] == "attendance.absent" and n["recipient"] == "organisation"]
    assert sorted(absent) == ["Phạm Văn Hùng", "Trần Thị Mai", "Đỗ Thị Lan"], "a re-recorded absence: no alert"

    await _in_runs(runs, events)
    assert await _state(runs) == expected, "a run applied again adds nothing"
