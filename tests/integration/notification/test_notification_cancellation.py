"""Every learner seated or waiting in a cancelled class is told once, whatever the order in which the class's
cancellation (scheduling's stream) and the learner's enrolment (enrolment's stream) are applied, and when they
are applied by concurrent transactions: against real NATS and PostgreSQL, counted at a webhook receiver."""
from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import pytest
from notification_helpers import Course, eventually, publish
from ttct.contracts import read_event

from notification.service_layer.projections import Projections

pytestmark = pytest.mark.integration

CANCELLED = "class.cancelled"
ORGS = {"xa-hoa-loc": "Đảng ủy xã Hoa Lộc", "huyen-doan": "Huyện đoàn Hậu Lộc"}


async def _start(start_notification, receiver, org_headers):
    service = await start_notification()
    for org in ORGS:
        r = await service.http.post(f"/v1/organisations/{org}/webhook-endpoints", json={"url": receiver.url(org)},
                                    headers=org_headers(org))
        assert r.status_code == 201, r.text
        receiver.secrets[org] = r.json()["secret"]
    return service


def _told(receiver) -> Counter:
    """How many delivered cancellation webhooks named each learner, by (organisation, name)."""
    return Counter((org, x["full_name"]) for org in ORGS for h in receiver.delivered(org).values()
                   if h.payload["type"] == CANCELLED for x in h.payload["data"]["learners"])


async def _notices(service, org_headers) -> Counter:
    """How many stored cancellation notices name each learner, as the organisations read them."""
    named = Counter()
    for org in ORGS:
        r = await service.http.get(f"/v1/organisations/{org}/notices?notice_type={CANCELLED}",
                                   headers=org_headers(org))
        assert r.status_code == 200, r.text
        named.update((org, x["full_name"]) for n in r.json() for x in n["payload"]["data"]["learners"])
    return named


async def _all_told_once(service, receiver, org_headers, expected: set[tuple[str, str]]) -> None:
    async def everyone_told():
        return set(_told(receiver)) >= expected
    with contextlib.suppress(AssertionError):  # the exact comparison below says who was missed
        await eventually(everyone_told, timeout=15)
    await asyncio.sleep(1.0)  # a second notice to anyone would arrive now
    assert _told(receiver) == Counter(expected), "every learner named in exactly one delivered cancellation"
    assert await _notices(service, org_headers) == Counter(expected)
    assert all(h.verified for hits in receiver.hits.values() for h in hits)


async def _applied(pool, envelope) -> bool:
    return await pool.fetchval("SELECT stream_version FROM consumer_checkpoints WHERE stream_id = $1",
                               envelope.stream_id) == envelope.stream_version


@pytest.mark.parametrize("first", ["cancellation", "enrolments"])
async def test_every_learner_of_a_cancelled_class_is_told_once_whichever_stream_is_applied_first(
        first, start_notification, js, all_receiver, org_headers, province):
    """Enrolment's stream may lag scheduling's or lead it. Among the late ones, a learner waitlisted then promoted
    (two enrolment events) and redeliveries JetStream cannot deduplicate; and, the cancellation first, the
    cancellation applied again after its checkpoint was lost, when an organisation had only late learners."""
    service = await _start(start_notification, all_receiver, org_headers)
    pool = service.app.state.runtime.pool
    course = Course(province)
    early = course.join("Nguyễn Văn An", "xa-hoa-loc")
    await publish(js, [course.opened(), early])
    await eventually(lambda: _applied(pool, early))
    cancel = course.cancel()
    late = [course.join("Trần Văn Muộn", "huyen-doan", ORGS["huyen-doan"]),
            course.join("Lê Thị Chờ", "xa-hoa-loc", waitlisted=True),
            course.join("Lê Thị Chờ", "xa-hoa-loc", promoted=True)]
    batches = [[cancel], late] if first == "cancellation" else [late, [cancel]]
    for batch in batches:
        await publish(js, batch)
        await eventually(lambda b=batch: _applied(pool, b[-1]))
    await publish(js, late, again=True)
    if first == "cancellation":
        await pool.execute("UPDATE consumer_checkpoints SET stream_version = stream_version - 1 WHERE"
                           " stream_id = $1", cancel.stream_id)
        await publish(js, [cancel], again=True)
        await eventually(lambda: _applied(pool, cancel))

    await _all_told_once(service, all_receiver, org_headers, {
        ("xa-hoa-loc", "Nguyễn Văn An"), ("huyen-doan", "Trần Văn Muộn"), ("xa-hoa-loc", "Lê Thị Chờ")})
    if first == "enrolments":  # all known at the cancellation: one notice per organisation, as before
        assert {org: [h.payload["type"] for h in all_receiver.delivered(org).values()].count(CANCELLED)
                for org in ORGS} == {"xa-hoa-loc": 1, "huyen-doan": 1}


async def _apply(handler, pool, envelope) -> None:
    """As the consumer applies an event: in a transaction of its own, committed at the end."""
    async with pool.acquire() as conn, conn.transaction():
        await handler(conn, envelope, read_event(envelope))


@pytest.mark.parametrize("held", ["cancellation", "enrolment", "waiting place"])
async def test_a_cancellation_and_an_enrolment_applied_at_the_same_time_tell_the_learner_once(
        held, start_notification, js, all_receiver, org_headers, province):
    """The two consumers (scheduling's and enrolment's) apply the class's cancellation and a learner's enrolment
    in concurrent transactions: here one is held open, uncommitted, while the other is applied, then committed.
    Neither may miss the other: the learner is told once (the running service delivers the notices)."""
    service = await _start(start_notification, all_receiver, org_headers)
    pool = service.app.state.runtime.pool
    course = Course(province)
    early = course.join("Nguyễn Văn An", "xa-hoa-loc")
    await publish(js, [course.opened(), early])
    await eventually(lambda: _applied(pool, early))
    # the service's handlers with its key ring, applied here by hand to interleave their transactions
    handlers = Projections(keyring=service.app.state.runtime.keyring)
    cancel = (handlers.class_cancelled, course.cancel())
    enrol = (handlers.learner_enrolled, course.join("Trần Văn Muộn", "huyen-doan", ORGS["huyen-doan"])) \
        if held != "waiting place" else \
        (handlers.learner_waitlisted, course.join("Trần Văn Muộn", "huyen-doan", ORGS["huyen-doan"], waitlisted=True))
    (first, first_env), (second, second_env) = (cancel, enrol) if held == "cancellation" else (enrol, cancel)

    async with pool.acquire() as conn:
        async with conn.transaction():
            await first(conn, first_env, read_event(first_env))
            other = asyncio.create_task(_apply(second, pool, second_env))
            await asyncio.wait({other}, timeout=1.0)  # as far as it gets while the first is uncommitted
        await asyncio.wait_for(other, 10)

    await _all_told_once(service, all_receiver, org_headers,
                         {("xa-hoa-loc", "Nguyễn Văn An"), ("huyen-doan", "Trần Văn Muộn")})
