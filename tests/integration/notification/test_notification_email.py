"""Email's guarantees against real NATS, PostgreSQL and a real SMTP server (aiosmtpd): retried when the server
answers 4xx, visibly failed on a 5xx, never sent twice across redelivery, replay and restarts; and an endpoint
that keeps failing is disabled and its organisation's contacts are emailed."""
from __future__ import annotations

import asyncio

import pytest

from notification_helpers import Course, eventually, publish, registered
from test_notification_kinds import HOA_LOC, get, register, smtp_settings

pytestmark = pytest.mark.integration
OFFICE, HEAD = "vanphong@hoaloc.example.vn", "bithu@hoaloc.example.vn"


async def _mails(smtp, address, count):
    return len(smtp.to(address)) >= count


async def test_an_email_is_retried_after_a_4xx_and_failed_visibly_after_a_5xx(
        start_notification, js, smtp, org_headers, province):
    service = await start_notification(**smtp_settings(smtp))
    smtp.fail_next = 1  # the first session: 451 at DATA
    smtp.refuse.add(HEAD)  # 550 for the head's address
    course = Course(province)
    await publish(js, [registered(province, "xa-hoa-loc", "Đảng ủy xã Hoa Lộc", HOA_LOC), course.opened()])
    await eventually(lambda: _org_known(service))
    await publish(js, [course.join("Nguyễn Văn An", "xa-hoa-loc")])
    await eventually(lambda: _mails(smtp, OFFICE, 1))
    await publish(js, [course.ineligible(0)])

    async def settled():
        log = await get(service, org_headers, "xa-hoa-loc", "email-deliveries")
        done = [a for a in log if a["outcome"] in ("delivered", "failed")]
        return len(done) == 3 and log
    log = await eventually(settled)
    by_address = {}
    for attempt in log:
        by_address.setdefault((attempt["notice_type"], attempt["address"]), []).append(
            (attempt["attempt_no"], attempt["smtp_code"], attempt["outcome"]))
    assert by_address[("enrolment.confirmed", OFFICE)] == [(1, 451, "retry"), (2, 250, "delivered")]
    assert by_address[("attendance.eligibility_lost", OFFICE)] == [(1, 250, "delivered")]
    assert by_address[("attendance.eligibility_lost", HEAD)] == [(1, 550, "failed")]
    assert len(smtp.to(OFFICE)) == 2 and smtp.to(HEAD) == []
    notices = await get(service, org_headers, "xa-hoa-loc", "notices")
    head = next(n for n in notices if n["recipient"] == "head")
    assert head["status"] == "failed" and "550" in head["emails"][0]["last_error"]


async def _org_known(service) -> bool:
    return await service.app.state.runtime.pool.fetchval(
        "SELECT jsonb_array_length(contacts) FROM organisations WHERE code = 'xa-hoa-loc'") == 2


async def test_emails_are_never_sent_twice_across_redelivery_lost_checkpoints_and_restarts(
        start_notification, js, smtp, province):
    settings = smtp_settings(smtp)
    service = await start_notification(**settings)
    course = Course(province)
    await publish(js, [registered(province, "xa-hoa-loc", "Đảng ủy xã Hoa Lộc", HOA_LOC), course.opened()])
    await eventually(lambda: _org_known(service))
    joined = [course.join("Nguyễn Văn An", "xa-hoa-loc"), course.join("Lê Thị Bình", "xa-hoa-loc")]
    alerts = [course.attendance(0, "absent"), course.ineligible(1)]
    await publish(js, [*joined, *alerts])
    await eventually(lambda: _mails(smtp, OFFICE, 4))
    await eventually(lambda: _mails(smtp, HEAD, 2))
    await service.stop()

    service = await start_notification(**settings)
    pool = service.app.state.runtime.pool
    await publish(js, [*joined, *alerts], again=True)  # past the duplicate window: the checkpoints catch them
    await asyncio.sleep(1.0)
    await pool.execute("DELETE FROM consumer_checkpoints")  # and if those were lost: the notice ids do
    await publish(js, [*joined, *alerts], again=True)
    await eventually(lambda: _checkpoints(pool, 2))  # the roster's and the attendance list's
    await publish(js, [course.join("Trần Văn Cường", "xa-hoa-loc")])
    await eventually(lambda: _mails(smtp, OFFICE, 5))
    await asyncio.sleep(1.0)
    assert len(smtp.to(OFFICE)) == 5 and len(smtp.to(HEAD)) == 2
    ids = [m.message["X-TTCT-Notice-Id"] for m in smtp.mails]
    assert len(ids) == len(set(ids)) == 7  # each notice emailed once to each of its addresses
    assert await pool.fetchval("SELECT count(*) FROM email_deliveries WHERE status = 'delivered'") == 7


async def _checkpoints(pool, count) -> bool:
    return await pool.fetchval("SELECT count(*) FROM consumer_checkpoints") >= count


async def test_an_endpoint_that_keeps_failing_is_disabled_and_the_organisations_contacts_are_emailed(
        start_notification, js, all_receiver, smtp, org_headers, province):
    service = await start_notification(**smtp_settings(smtp), webhook_retry_schedule=(0, 0.1),
                                       webhook_disable_after_failures=2)
    endpoint = await register(service, all_receiver, "xa-hoa-loc", org_headers)
    all_receiver.script["xa-hoa-loc"] = [(500, {})] * 100
    course = Course(province)
    await publish(js, [registered(province, "xa-hoa-loc", "Đảng ủy xã Hoa Lộc", HOA_LOC), course.opened()])
    await eventually(lambda: _org_known(service))
    await publish(js, [course.join("Nguyễn Văn An", "xa-hoa-loc"), course.join("Lê Thị Bình", "xa-hoa-loc"),
                       course.join("Trần Văn Cường", "xa-hoa-loc")])

    async def disabled():
        [e] = await get(service, org_headers, "xa-hoa-loc", "webhook-endpoints")
        return not e["enabled"] and e
    e = await eventually(disabled)
    assert e["endpoint_id"] == endpoint["endpoint_id"] and "2 deliveries in a row failed" in e["disabled_reason"]

    async def told():
        return [m for m in smtp.mails if m.subject.startswith("Địa chỉ webhook đã bị tạm dừng")]
    mails = await eventually(told)
    await asyncio.sleep(0.5)
    mails = await told()
    assert sorted(a for m in mails for a in m.recipients) == [HEAD, OFFICE]  # every contact, once
    assert all_receiver.url("xa-hoa-loc") in mails[0].html
    notices = await get(service, org_headers, "xa-hoa-loc", "notices")
    states = sorted(d["status"] for n in notices for d in n["deliveries"])
    assert states.count("failed") >= 2 and set(states) <= {"failed", "cancelled"}  # none left pending
