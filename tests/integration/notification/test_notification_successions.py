"""Merges against real NATS and PostgreSQL. One dated ahead: until its day the predecessor keeps its mail; from
then on a notice of a later event is the successor's from the start, and the pass that runs every
SUCCESSION_CHECK_INTERVAL re-addresses what was still waiting for the predecessor, once. One in force: a class
cancelled afterwards is told to the successor in one notice naming its predecessors' learners; an email waiting
for the predecessor's digest goes to the successor's office instead."""
from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from ttct.contracts import EventMetadata
from ttct.contracts.organisations_merged import OrganisationsMerged
from ttct.eventsourcing.eventstore import make_envelopes
from ttct.papers.labels import local_day

from notification.service_layer import successions
from notification_helpers import Course, eventually, publish, registered
from test_notification_kinds import HOA_LOC, get, register, smtp_settings

pytestmark = pytest.mark.integration
OLD, NEW = "xa-hoa-loc", "xa-hau-loc"


def merged(province: str, effective_on: date, predecessors: tuple[str, ...] = (OLD,), *, after: int = 0):
    """On the successor's stream, after `after` events of its own (its registration)."""
    meta = EventMetadata(province=province, centre="hau-loc", correlation_id=uuid4())
    [env] = make_envelopes(f"enrolment:organisation:{NEW}", after, [OrganisationsMerged(
        successor_code=NEW, successor_name="Đảng ủy xã Hậu Lộc", predecessor_codes=list(predecessors),
        effective_on=effective_on,
        decision={"number": "1686/QĐ-UBND", "signed_on": "2026-11-20"})], meta, now=datetime.now(UTC), new_id=uuid4)
    return env


async def test_a_merge_dated_ahead_moves_the_mail_on_its_day_and_what_waited_is_re_addressed_once(
        start_notification, js, all_receiver, org_headers, province):
    service = await start_notification()
    for org in (OLD, NEW):
        await register(service, all_receiver, org, org_headers)
    r = await service.http.put(f"/v1/organisations/{OLD}/channel-settings", json={"webhook": "digest"},
                               headers=org_headers(OLD))
    assert r.status_code == 200, r.text
    course = Course(province)
    day = local_day(datetime.now(UTC)) + timedelta(days=3)
    await publish(js, [course.opened(), course.join("Nguyễn Văn An", OLD), merged(province, day)])
    pool = service.app.state.runtime.pool

    async def known():
        return await pool.fetchval("SELECT count(*) FROM organisation_successions") == 1
    await eventually(known)
    notices = await get(service, org_headers, OLD, "notices")
    assert [n["status"] for n in notices] == ["held"]  # not in force yet: the predecessor's, waiting
    assert await successions.readdress_due(pool, datetime.now(UTC), email=False) == (0, 0)

    # an event after the day (its own time says so) is the successor's from the start
    later = course.join("Lê Thị Bình", OLD)
    later = later.model_copy(update={"occurred_at": datetime.now(UTC) + timedelta(days=4)})
    await publish(js, [later])
    await eventually(lambda: _hits(all_receiver, 1))
    assert all_receiver.hits[NEW][0].payload["data"]["full_name"] == "Lê Thị Bình"

    # the day comes: what waited for the predecessor is the successor's, its endpoint disabled; once
    on_the_day = datetime.now(UTC) + timedelta(days=3, hours=1)
    assert await successions.readdress_due(pool, on_the_day, email=False) == (1, 1)
    assert await successions.readdress_due(pool, on_the_day, email=False) == (0, 0)
    await eventually(lambda: _hits(all_receiver, 2))
    assert {h.payload["data"]["full_name"] for h in all_receiver.hits[NEW]} == {"Nguyễn Văn An", "Lê Thị Bình"}
    assert all(h.verified for h in all_receiver.hits[NEW]) and all_receiver.hits[OLD] == []
    [endpoint] = await get(service, org_headers, OLD, "webhook-endpoints")
    assert not endpoint["enabled"] and endpoint["disabled_reason"].startswith("organisation-succeeded")
    moved = await get(service, org_headers, NEW, "notices")
    assert sorted(n["payload"]["data"]["full_name"] for n in moved) == ["Lê Thị Bình", "Nguyễn Văn An"]
    assert await get(service, org_headers, OLD, "notices") == []  # re-addressed, not copied


async def _hits(receiver, count: int, kind: str | None = None) -> bool:
    return len([h for h in receiver.hits[NEW] if kind in (None, h.payload["type"])]) >= count


async def test_a_class_cancelled_after_a_merge_is_told_to_the_successor_once_naming_every_learner(
        start_notification, js, all_receiver, org_headers, province):
    service = await start_notification()
    other = "xa-hoa-phu"
    for org in (OLD, other, NEW):
        await register(service, all_receiver, org, org_headers)
    course = Course(province)
    await publish(js, [course.opened(), course.join("Nguyễn Văn An", OLD), course.join("Trần Thị Bình", other)])
    await eventually(lambda: _hits_of(all_receiver, other, 1))
    await publish(js, [merged(province, local_day(datetime.now(UTC)), (OLD, other))])
    pool = service.app.state.runtime.pool

    async def known():  # scheduling's stream is applied apart from enrolment's: the merge first, here
        return await pool.fetchval("SELECT count(*) FROM organisation_successions") == 2
    await eventually(known)
    await publish(js, [course.cancel()])
    await eventually(lambda: _hits(all_receiver, 1, "class.cancelled"))
    await asyncio.sleep(1)  # time for a second notice to show up, if there were one
    [told] = [h for h in all_receiver.hits[NEW] if h.payload["type"] == "class.cancelled"]
    assert {x["full_name"] for x in told.payload["data"]["learners"]} == {"Nguyễn Văn An", "Trần Thị Bình"}
    assert not [h for org in (OLD, other) for h in all_receiver.hits[org] if h.payload["type"] == "class.cancelled"]


async def _hits_of(receiver, org: str, count: int) -> bool:
    return len(receiver.hits[org]) >= count


async def test_an_email_waiting_for_a_predecessor_s_digest_goes_to_the_successor_s_office_instead(
        start_notification, js, smtp, org_headers, province):
    service = await start_notification(**smtp_settings(smtp))
    r = await service.http.put(f"/v1/organisations/{OLD}/channel-settings",
                               json={"webhook": "immediate", "email": "digest"}, headers=org_headers(OLD))
    assert r.status_code == 200, r.text
    office = "vanphong@hauloc.example.vn"
    course = Course(province)
    await publish(js, [registered(province, OLD, "Đảng ủy xã Hoa Lộc", HOA_LOC),
                       registered(province, NEW, "Đảng ủy xã Hậu Lộc", [
                           {"name": "Văn phòng Đảng ủy xã Hậu Lộc", "role": "office", "email": office},
                           {"name": "Hà Văn Hậu", "role": "bí thư", "phone": "0912 000 111", "is_head": True}]),
                       course.opened(), course.join("Nguyễn Văn An", OLD)])
    pool = service.app.state.runtime.pool

    async def held():
        return await pool.fetchval("SELECT count(*) FROM email_deliveries WHERE status = 'held'") == 1
    await eventually(held)
    await publish(js, [merged(province, local_day(datetime.now(UTC)), after=1)])
    await eventually(lambda: _mails_to(smtp, office))
    [mail] = smtp.to(office)
    assert "Nguyễn Văn An" in mail.html
    assert smtp.to(HOA_LOC[0]["email"]) == []  # the predecessor's office: nothing


async def _mails_to(smtp, address: str) -> bool:
    return len(smtp.to(address)) >= 1
