"""Secret rotation with both signatures during the overlap, and manual replay of one notice or of everything
since a time: against real NATS and PostgreSQL, signatures checked with the Standard Webhooks reference library."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notification_helpers import Course, eventually, publish
from test_notification_kinds import get, register

pytestmark = pytest.mark.integration
ORG = "xa-hoa-loc"


def verifies(secret: str, hit) -> bool:
    try:
        Webhook(secret).verify(hit.body, hit.headers)
        return True
    except WebhookVerificationError:
        return False


async def _delivered(receiver, count):
    return len(receiver.delivered(ORG)) >= count


async def _none_pending(service, org_headers) -> bool:
    """The receiver can hold a delivery before the dispatcher has recorded it: a replay leaves a pending one alone."""
    notices = await get(service, org_headers, ORG, "notices")
    return all(d["status"] != "pending" for n in notices for d in n["deliveries"])


async def test_a_rotated_secret_signs_beside_the_old_one_during_the_overlap_then_alone(
        start_notification, js, all_receiver, org_headers, province):
    service = await start_notification()
    endpoint = await register(service, all_receiver, ORG, org_headers)
    old = endpoint["secret"]
    course = Course(province)
    await publish(js, [course.opened(), course.join("Nguyễn Văn An", ORG)])
    await eventually(lambda: _delivered(all_receiver, 1))

    url = f"/v1/organisations/{ORG}/webhook-endpoints/{endpoint['endpoint_id']}/rotate-secret"
    r = await service.http.post(url, json={"overlap_hours": 24}, headers=org_headers(ORG))
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new != old and new.startswith("whsec_")
    all_receiver.secrets[ORG] = new
    await publish(js, [course.join("Lê Thị Bình", ORG)])
    await eventually(lambda: _delivered(all_receiver, 2))
    during = all_receiver.hits[ORG][-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verifies(old, during) and verifies(new, during)  # a receiver on either secret accepts it

    r = await service.http.post(url, json={"overlap_hours": 0}, headers=org_headers(ORG))
    newest = r.json()["secret"]
    all_receiver.secrets[ORG] = newest
    await publish(js, [course.join("Trần Văn Cường", ORG)])
    await eventually(lambda: _delivered(all_receiver, 3))
    after = all_receiver.hits[ORG][-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert verifies(newest, after) and not verifies(new, after) and not verifies(old, after)
    assert (await service.http.post(url, json={}, headers=org_headers("huyen-doan"))).status_code == 404


async def test_one_notice_or_everything_since_a_time_is_sent_again_with_the_same_ids(
        start_notification, js, all_receiver, org_headers, province):
    service = await start_notification()
    await register(service, all_receiver, ORG, org_headers)
    course = Course(province)
    before = datetime.now(UTC) - timedelta(seconds=1)
    await publish(js, [course.opened(), course.join("Nguyễn Văn An", ORG), course.join("Lê Thị Bình", ORG)])
    await eventually(lambda: _delivered(all_receiver, 2))
    first = all_receiver.hits[ORG][0].webhook_id

    r = await service.http.post(f"/v1/organisations/{ORG}/notices/{first}/replay", headers=org_headers(ORG))
    assert r.status_code == 202 and r.json() == {"queued": 1}, r.text
    await eventually(lambda: _hits(all_receiver, 3))
    assert all_receiver.hits[ORG][-1].webhook_id == first and all_receiver.hits[ORG][-1].verified
    await eventually(lambda: _none_pending(service, org_headers))

    r = await service.http.post(f"/v1/organisations/{ORG}/replay", json={"since": before.isoformat()},
                                headers=org_headers(ORG))
    assert r.status_code == 202 and r.json() == {"queued": 2}, r.text
    await eventually(lambda: _hits(all_receiver, 5))
    await asyncio.sleep(0.5)
    ids = [h.webhook_id for h in all_receiver.hits[ORG]]
    assert len(ids) == 5 and len(set(ids)) == 2  # sent again, never as new notices
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = await service.http.post(f"/v1/organisations/{ORG}/replay", json={"since": future}, headers=org_headers(ORG))
    assert r.json() == {"queued": 0}
    log = await get(service, org_headers, ORG, "deliveries")
    assert [a["outcome"] for a in log] == ["delivered"] * 5
    missing = await service.http.post(f"/v1/organisations/{ORG}/notices/{course.class_id}/replay",
                                      headers=org_headers(ORG))
    assert missing.status_code == 404
    other = await service.http.post(f"/v1/organisations/{ORG}/notices/{first}/replay",
                                    headers=org_headers("huyen-doan"))
    assert other.status_code == 404


async def _hits(receiver, count):
    return len(receiver.hits[ORG]) >= count
