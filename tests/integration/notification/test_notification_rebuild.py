"""Notices derive from events, so they can be rebuilt: replaying the streams (`ttct.admin rebuild`) yields the same
notices with the same ids and sends nothing again; replayed into an empty database, the same set of notice ids."""
from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from notification_helpers import Course, eventually, publish, registered
from test_notification_kinds import HOA_LOC, register, smtp_settings
from ttct.admin.commands import rebuild
from ttct_dev.stack import database_url, ensure_databases

pytestmark = pytest.mark.integration
ORG = "xa-hoa-loc"


async def _ids(pool) -> set:
    return {r["notice_id"] for r in await pool.fetch("SELECT notice_id FROM notices")}


async def test_replaying_the_streams_gives_the_same_notices_and_sends_nothing_again(
        start_notification, js, all_receiver, smtp, org_headers, province, admin_url):
    service = await start_notification(**smtp_settings(smtp))
    await register(service, all_receiver, ORG, org_headers)
    course = Course(province)
    await publish(js, [registered(province, ORG, "Đảng ủy xã Hoa Lộc", HOA_LOC), course.opened()])
    await eventually(lambda: _org(service))
    await publish(js, [course.join("Nguyễn Văn An", ORG), course.join("Lê Thị Bình", ORG),
                       course.attendance(0, "absent")])
    await publish(js, course.finalise({0: (None, None, None), 1: ("8.0", "gioi", "HL-1")}))
    # every email before the snapshot: 2 enrolments (office), the absence and the report (office and head)
    await eventually(lambda: _sent(all_receiver, smtp, hooks=4, mails=6))
    pool = service.app.state.runtime.pool
    before = await _ids(pool)
    checkpoints = await pool.fetchval("SELECT count(*) FROM consumer_checkpoints")
    hooks, mails = len(all_receiver.hits[ORG]), len(smtp.mails)
    runtime = service.app.state.runtime
    await service.stop()

    print(await rebuild(runtime))
    service = await start_notification(**smtp_settings(smtp))
    pool = service.app.state.runtime.pool
    await eventually(lambda: _checkpoints(pool, checkpoints))
    await asyncio.sleep(1.5)
    assert await _ids(pool) == before
    assert (len(all_receiver.hits[ORG]), len(smtp.mails)) == (hooks, mails)  # nothing sent again
    assert await pool.fetchval("SELECT count(*) FROM organisation_learners") == 2  # the projections are back
    await service.stop()

    # Into an empty database (no endpoints, no SMTP: nothing to send): the same notices, with the same ids.
    name = f"notif_{uuid.uuid4().hex[:12]}"
    await ensure_databases(admin_url, [name])
    try:
        empty = await start_notification(database_url=database_url(admin_url, name))
        print(await rebuild(empty.app.state.runtime))  # while it runs: its projections from the streams' start
        pool = empty.app.state.runtime.pool
        await eventually(lambda: _checkpoints(pool, checkpoints))
        await asyncio.sleep(1.0)
        assert await _ids(pool) == before
        await empty.stop()
    finally:
        conn = await asyncpg.connect(admin_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def _org(service) -> bool:
    return await service.app.state.runtime.pool.fetchval("SELECT count(*) FROM organisations WHERE code = $1",
                                                         ORG) == 1


async def _sent(receiver, smtp, hooks, mails) -> bool:
    return len(receiver.delivered(ORG)) >= hooks and len(smtp.mails) >= mails


async def _checkpoints(pool, count) -> bool:
    return await pool.fetchval("SELECT count(*) FROM consumer_checkpoints") >= count
