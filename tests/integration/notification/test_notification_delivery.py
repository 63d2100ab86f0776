"""Result notices from consumed events to signed webhook deliveries, against real NATS and PostgreSQL."""
from __future__ import annotations

import asyncio

import pytest
from notification_helpers import Cohort, eventually, publish
from ttct.eventsourcing.topology import durable_name

pytestmark = pytest.mark.integration


async def register(service, receiver, org, headers) -> dict:
    r = await service.http.post(f"/v1/organisations/{org}/webhook-endpoints",
                                json={"url": receiver.url(org), "description": "Văn phòng cấp ủy"},
                                headers=headers(org))
    assert r.status_code == 201, r.text
    receiver.secrets[org] = r.json()["secret"]
    return r.json()


RESULT = "learner.result_recorded"


async def read(service, org_headers, org: str, what: str):
    """What the organisation reads; of notices and the delivery log, only result notices' (the kind these
    tests are about: enrolments give notices too)."""
    r = await service.http.get(f"/v1/organisations/{org}/{what}", headers=org_headers(org))
    assert r.status_code == 200, r.text
    if what not in ("notices", "deliveries"):
        return r.json()
    notices = (await service.http.get(f"/v1/organisations/{org}/notices", headers=org_headers(org))).json()
    results = {n["notice_id"] for n in notices if n["notice_type"] == RESULT}
    return [x for x in r.json() if x["notice_id"] in results]


async def test_each_score_gives_one_signed_notice_to_the_learners_organisation(
        start_notification, js, webhook_receiver, org_headers, province):
    service = await start_notification()
    for org in ("xa-hoa-loc", "huyen-doan"):
        await register(service, webhook_receiver, org, org_headers)
    cohort = Cohort(province)
    enrolled = [cohort.enrol(name, org) for name, org in [
        ("Nguyễn Văn An", "xa-hoa-loc"), ("Lê Thị Bình", "xa-hoa-loc"), ("Trần Đức Cường", "xa-hoa-loc"),
        ("Phạm Thu Hà", "huyen-doan"), ("Đỗ Minh Quân", "huyen-doan")]]
    await publish(js, [cohort.opened(), *enrolled, *(cohort.score(i) for i in range(5))])

    await eventually(lambda: _counts(webhook_receiver, {"xa-hoa-loc": 3, "huyen-doan": 2}))
    await asyncio.sleep(1.0)  # a second copy of any notice would arrive now
    assert all(h.verified for hits in webhook_receiver.hits.values() for h in hits)
    assert {org: len(hits) for org, hits in webhook_receiver.hits.items()} == {"xa-hoa-loc": 3, "huyen-doan": 2}
    data = [h.payload["data"] for h in webhook_receiver.hits["xa-hoa-loc"]]
    assert {d["full_name"] for d in data} == {"Nguyễn Văn An", "Lê Thị Bình", "Trần Đức Cường"}
    assert all(d["grade_label"] == "Giỏi" and d["score"] == 8.5 and d["class_title"] == cohort.title for d in data)
    assert {h.webhook_id for h in webhook_receiver.hits["xa-hoa-loc"]} == {d["notice_id"] for d in data}

    notices = await read(service, org_headers, "xa-hoa-loc", "notices")
    assert [n["status"] for n in notices] == ["delivered"] * 3
    log = await read(service, org_headers, "xa-hoa-loc", "deliveries")
    assert [(a["status_code"], a["outcome"]) for a in log] == [(204, "delivered")] * 3
    learners = await read(service, org_headers, "huyen-doan", "learners")
    assert [(lr["full_name"], lr["score"], lr["seat_number"]) for lr in learners] == [
        ("Phạm Thu Hà", "8.5", 4), ("Đỗ Minh Quân", "8.5", 5)]


async def _counts(receiver, expected: dict[str, int]) -> bool:
    return all(len(receiver.delivered(org)) >= n for org, n in expected.items())


async def test_a_redelivered_event_creates_no_second_notice(start_notification, js, webhook_receiver, org_headers,
                                                            province, notification_db_url):
    service = await start_notification()
    await register(service, webhook_receiver, "xa-hoa-loc", org_headers)
    cohort = Cohort(province)
    enrolled = cohort.enrol("Nguyễn Văn An", "xa-hoa-loc")
    scored = cohort.score(0)
    await publish(js, [enrolled, scored])
    await eventually(lambda: _counts(webhook_receiver, {"xa-hoa-loc": 1}))

    await publish(js, [scored], again=True)  # past JetStream's duplicate window: the checkpoint catches it
    await eventually(lambda: _consumed(js, province))
    pool = service.app.state.runtime.pool
    await pool.execute("DELETE FROM consumer_checkpoints")  # and if even that were lost: the notice id does
    await publish(js, [scored], again=True)
    await eventually(lambda: _checkpoint_back(pool))
    await asyncio.sleep(1.0)
    assert await pool.fetchval("SELECT count(*) FROM notices WHERE notice_type = $1", RESULT) == 1
    assert await pool.fetchval("SELECT count(*) FROM deliveries JOIN notices USING (notice_id)"
                               " WHERE notice_type = $1", RESULT) == 1
    assert len(webhook_receiver.hits["xa-hoa-loc"]) == 1


async def _consumed(js, province) -> bool:
    info = await js.consumer_info("ASSESSMENT", durable_name("notification", province))
    return info.num_pending == 0 and info.num_ack_pending == 0


async def _checkpoint_back(pool) -> bool:
    return await pool.fetchval("SELECT count(*) FROM consumer_checkpoints WHERE stream_id LIKE 'assessment:%'") == 1


async def _recorded(service, org_headers, org: str) -> bool:
    """Every result notice's delivery finished as the dispatcher recorded it (none pending any more)."""
    notices = await read(service, org_headers, org, "notices")
    return bool(notices) and all(d["status"] != "pending" for n in notices for d in n["deliveries"])


async def test_a_receiver_that_fails_twice_then_recovers_gets_the_notice_with_the_same_id(
        start_notification, js, webhook_receiver, org_headers, province):
    service = await start_notification()
    await register(service, webhook_receiver, "xa-hoa-loc", org_headers)
    webhook_receiver.script["xa-hoa-loc"] = [(500, {}), (503, {"Retry-After": "1"})]
    cohort = Cohort(province)
    await publish(js, [cohort.enrol("Lê Thị Bình", "xa-hoa-loc"), cohort.score(0, "9.5", "xuat_sac")])

    await eventually(lambda: _counts(webhook_receiver, {"xa-hoa-loc": 1}))
    # The receiver holds the third attempt before the dispatcher has recorded its 2xx: read the log once it has.
    await eventually(lambda: _recorded(service, org_headers, "xa-hoa-loc"))
    hits = webhook_receiver.hits["xa-hoa-loc"]
    assert [h.status for h in hits] == [500, 503, 204]
    assert len({h.webhook_id for h in hits}) == 1 and all(h.verified for h in hits)
    assert hits[2].at - hits[1].at >= 0.95  # Retry-After: 1 outweighs the 0.3 s schedule
    assert hits[0].payload == hits[2].payload and hits[2].payload["data"]["grade_label"] == "Xuất sắc"

    log = await read(service, org_headers, "xa-hoa-loc", "deliveries")
    assert [(a["attempt_no"], a["status_code"], a["outcome"]) for a in log] == [
        (1, 500, "retry"), (2, 503, "retry"), (3, 204, "delivered")]
    assert all(a["latency_ms"] is not None and a["notice_id"] == hits[0].webhook_id for a in log)
    [notice] = await read(service, org_headers, "xa-hoa-loc", "notices")
    assert notice["status"] == "delivered" and notice["deliveries"][0]["attempts"] == 3


async def test_after_the_last_attempt_the_delivery_is_failed_and_says_why(
        start_notification, js, webhook_receiver, org_headers, province):
    service = await start_notification(webhook_retry_schedule=(0, 0.1))
    await register(service, webhook_receiver, "xa-hoa-loc", org_headers)
    webhook_receiver.script["xa-hoa-loc"] = [(500, {})] * 5
    cohort = Cohort(province)
    await publish(js, [cohort.enrol("Lê Thị Bình", "xa-hoa-loc"), cohort.score(0)])

    async def failed():
        notices = await read(service, org_headers, "xa-hoa-loc", "notices")
        return notices and notices[0]["status"] == "failed" and notices[0]
    notice = await eventually(failed)
    assert notice["deliveries"][0]["attempts"] == 2 and "HTTP 500" in notice["deliveries"][0]["last_error"]
    await asyncio.sleep(0.5)
    assert len(webhook_receiver.hits["xa-hoa-loc"]) == 2


async def test_410_gone_disables_the_endpoint(start_notification, js, webhook_receiver, org_headers, province):
    service = await start_notification()
    await register(service, webhook_receiver, "xa-hoa-loc", org_headers)
    webhook_receiver.script["xa-hoa-loc"] = [(410, {})]
    cohort = Cohort(province)
    await publish(js, [cohort.enrol("Lê Thị Bình", "xa-hoa-loc"), cohort.score(0)])

    async def disabled():
        [endpoint] = await read(service, org_headers, "xa-hoa-loc", "webhook-endpoints")
        return not endpoint["enabled"] and endpoint
    endpoint = await eventually(disabled)
    assert "410" in endpoint["disabled_reason"]
    await publish(js, [cohort.enrol("Trần Văn Cường", "xa-hoa-loc"), cohort.score(1)])
    notices = await eventually(lambda: _notices(service, org_headers, "xa-hoa-loc", 2))
    assert [n["status"] for n in notices] == ["failed", "no_endpoint"]
    assert len(webhook_receiver.hits["xa-hoa-loc"]) == 1
    log = await read(service, org_headers, "xa-hoa-loc", "deliveries")
    assert [(a["status_code"], a["outcome"]) for a in log] == [(410, "endpoint_gone")]


async def _notices(service, org_headers, org, count):
    notices = await read(service, org_headers, org, "notices")
    return len(notices) == count and notices


async def test_a_restarted_service_does_not_resend_delivered_notices(
        start_notification, js, webhook_receiver, org_headers, province):
    service = await start_notification()
    await register(service, webhook_receiver, "xa-hoa-loc", org_headers)
    cohort = Cohort(province)
    first = [cohort.enrol("Nguyễn Văn An", "xa-hoa-loc"), cohort.enrol("Lê Thị Bình", "xa-hoa-loc")]
    scores = [cohort.score(0), cohort.score(1)]
    await publish(js, [*first, *scores])
    await eventually(lambda: _counts(webhook_receiver, {"xa-hoa-loc": 2}))
    await service.stop()

    service = await start_notification()
    await publish(js, scores, again=True)
    await publish(js, [cohort.enrol("Trần Văn Cường", "xa-hoa-loc"), cohort.score(2)])
    await eventually(lambda: _counts(webhook_receiver, {"xa-hoa-loc": 3}))
    await asyncio.sleep(1.0)
    assert len(webhook_receiver.hits["xa-hoa-loc"]) == 3
    assert len(await _notices(service, org_headers, "xa-hoa-loc", 3)) == 3


async def test_two_replicas_send_each_notice_once(start_notification, js, webhook_receiver, org_headers, province):
    replicas = [await start_notification(), await start_notification()]
    await register(replicas[0], webhook_receiver, "xa-hoa-loc", org_headers)
    cohort = Cohort(province)
    events = [cohort.enrol(f"Nguyễn Văn Học Viên {i}", "xa-hoa-loc") for i in range(40)]
    await publish(js, [*events, *(cohort.score(i) for i in range(40))])
    await eventually(lambda: _counts(webhook_receiver, {"xa-hoa-loc": 40}))
    await asyncio.sleep(1.0)
    assert len(webhook_receiver.hits["xa-hoa-loc"]) == 40


async def test_a_slow_endpoint_does_not_hold_up_another_organisation(
        start_notification, js, webhook_receiver, org_headers, province):
    service = await start_notification(webhook_concurrency=4, webhook_max_in_flight_per_endpoint=2)
    for org in ("cham", "nhanh"):
        await register(service, webhook_receiver, org, org_headers)
    webhook_receiver.delay["cham"] = 2.0
    cohort = Cohort(province)
    slow = [cohort.enrol(f"Lê Văn Chậm {i}", "cham") for i in range(10)]
    await publish(js, [*slow, *(cohort.score(i) for i in range(10))])
    await eventually(lambda: _in_flight(service, 2))
    await publish(js, [cohort.enrol("Phạm Thị Nhanh", "nhanh"), cohort.score(10)])
    await eventually(lambda: _counts(webhook_receiver, {"nhanh": 1}))
    assert len(webhook_receiver.hits["cham"]) <= 4  # 10 s of slow deliveries, two at a time: barely begun


async def _in_flight(service, count: int) -> bool:
    return await service.app.state.runtime.pool.fetchval(
        "SELECT count(*) FROM deliveries WHERE lease_until > now()") == count


async def test_a_send_cut_short_by_shutdown_is_not_lost(start_notification, js, webhook_receiver, org_headers,
                                                         province):
    service = await start_notification(webhook_shutdown_grace=0.2)
    await register(service, webhook_receiver, "xa-hoa-loc", org_headers)
    webhook_receiver.delay["xa-hoa-loc"] = 3.0
    cohort = Cohort(province)
    await publish(js, [cohort.enrol("Lê Thị Bình", "xa-hoa-loc"), cohort.score(0)])
    await eventually(lambda: _in_flight(service, 1))
    await service.stop()  # the receiver is still holding the request

    webhook_receiver.delay.clear()
    service = await start_notification()
    await eventually(lambda: _counts(webhook_receiver, {"xa-hoa-loc": 1}), timeout=30)
    log = await read(service, org_headers, "xa-hoa-loc", "deliveries")
    assert [(a["attempt_no"], a["outcome"]) for a in log] == [(1, "interrupted"), (2, "delivered")]
    # At least once: the receiver may see the cut-short request too, always with the same webhook-id.
    assert len({h.webhook_id for h in webhook_receiver.hits["xa-hoa-loc"]}) == 1
