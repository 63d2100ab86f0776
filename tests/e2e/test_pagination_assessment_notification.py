"""Issue 8's cursor pagination on assessment's and notification's lists, as on scheduling's and enrolment's: a client
paging with a small limit gets every item once, in the order of the whole list; filters narrow a list; a name never
travels in a cursor; notification's old `after=` still works beside the cursor."""
from __future__ import annotations

import asyncio
import base64
import uuid

import httpx
import pytest

from ttct.domain.names import name_sort_key
from ttct_dev.demo import _until_known
from ttct_dev.directory import register_organisations

pytestmark = pytest.mark.e2e
RETRYABLE = ("class-unknown", "learner-not-in-class", "session-unknown")
# names whose alphabetical order is not the order they are enrolled in (nor, most likely, their ids')
NAMES = ("Trần Văn Em", "Lê Thị Bình", "Phạm Văn Dũng", "Nguyễn Thị An", "Hoàng Văn Cường")


async def pages(client: httpx.AsyncClient, url: str, **params) -> tuple[list, int]:
    """Every item, following Link rel=next; and how many pages it took. No cursor holds a learner's name."""
    items, count = [], 0
    r = await client.get(url, params=params)
    while True:
        assert r.status_code == 200, r.text
        count += 1
        items += r.json()
        cursor = r.headers.get("x-next-cursor")
        if cursor is None:
            assert "link" not in r.headers
            return items, count
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        assert not any(name in decoded for name in NAMES), decoded
        r = await client.get(r.headers["link"].split(">")[0].lstrip("<"))


async def until_known(call) -> httpx.Response:
    """Assessment learns of classes and learners from events: a command may arrive before them."""
    for _ in range(300):
        r = await call()
        if r.status_code not in (404, 409) or not r.json().get("type", "").endswith(RETRYABLE):
            return r
        await asyncio.sleep(0.05)
    return r


@pytest.fixture
async def tenant(services, issuer):
    code, org = f"c-{uuid.uuid4().hex[:8]}", f"xa-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("province-admin")) as client:
        client.code, client.org = code, org
        client.scheduling = f"{services.urls['scheduling']}/v1/centres/{code}"
        client.enrolment = f"{services.urls['enrolment']}/v1/centres/{code}"
        client.assessment = f"{services.urls['assessment']}/v1/centres/{code}"
        client.notification = f"{services.urls['notification']}/v1/organisations/{org}"
        client.as_org = issuer.headers("organisation", org=org)
        yield client


async def _class_with_learners(tenant, services, orgs: tuple[str, ...]) -> tuple[str, str, list[str]]:
    """A class with one session and a learner per name, sent in turn by each organisation of `orgs`."""
    r = await tenant.post(f"{tenant.scheduling}/classes", json={
        "programme_type": "so_cap_llct", "title": "Lớp Sơ cấp LLCT (phân trang)", "capacity": 30,
        "starts_on": "2027-03-01", "ends_on": "2027-03-20", "venue": "Hội trường"})
    assert r.status_code == 201, r.text
    class_id = r.json()["class_id"]
    r = await tenant.post(f"{services.urls['scheduling']}/v1/lecturers",
                          json={"full_name": f"Lê Văn Giảng {uuid.uuid4().hex[:4]}", "kind": "collaborator"})
    assert r.status_code == 201, r.text
    r = await tenant.post(f"{tenant.scheduling}/classes/{class_id}/sessions", json={
        "session_date": "2027-03-02", "starts_at": "07:30", "ends_at": "11:00", "topic": "Chuyên đề 1",
        "lecturer_id": r.json()["lecturer_id"], "field_trip_site": "Khu di tích Hàm Rồng"})
    assert r.status_code == 201, r.text
    session_id = r.json()["session_id"]
    await register_organisations(tenant, services.urls["enrolment"], {org: f"Đảng ủy {org}" for org in orgs},
                                 centre=tenant.code)
    learners = []
    for i, name in enumerate(NAMES):
        org = orgs[i % len(orgs)]
        body = {"full_name": name, "date_of_birth": "1988-04-12",
                "sending_organisation": {"code": org, "name": f"Đảng ủy {org}"}}
        r = await _until_known(lambda body=body: tenant.post(f"{tenant.enrolment}/classes/{class_id}/enrolments",
                                                             json=body))
        assert r.status_code == 201, r.text
        learners.append(r.json()["learner_id"])
    return class_id, session_id, learners


async def test_assessment_lists_page_by_cursor_in_their_order_and_filter(tenant, services):
    scheme = f"pg-{uuid.uuid4().hex[:6]}"
    for weight in ("1", "1.0", "1.00"):
        r = await tenant.post(f"{tenant.assessment}/schemes/{scheme}/versions",
                              json={"components": [{"name": "final", "weight": weight}]})
        assert r.status_code == 201, r.text
    versions, count = await pages(tenant, f"{tenant.assessment}/schemes/{scheme}/versions", limit=2)
    assert ([v["version"] for v in versions], count) == ([1, 2, 3], 2)

    class_id, session_id, learners = await _class_with_learners(tenant, services, ("xa-a", "xa-b"))
    url = f"{tenant.assessment}/classes/{class_id}"
    for learner, score in zip(learners, (8.0, 3.0, 6.5, 9.0, 7.0), strict=True):
        r = await until_known(lambda learner=learner, score=score: tenant.post(
            f"{url}/scores", json={"learner_id": learner, "score": score}))
        assert r.status_code == 201, r.text

    whole = (await tenant.get(f"{url}/scores")).json()
    assert [s["full_name"] for s in whole] == sorted(NAMES, key=name_sort_key)  # given name first, the Vietnamese way
    assert (await pages(tenant, f"{url}/scores", limit=2)) == (whole, 3)
    from_a = (await tenant.get(f"{url}/scores", params={"organisation": "xa-a"})).json()
    assert sorted(s["full_name"] for s in from_a) == sorted(NAMES[0::2])
    assert (await tenant.get(f"{url}/scores", params={"component": "essay"})).json() == []

    marks = dict(zip(learners, ("present", "absent", "present", "present", "present"), strict=True))
    r = await until_known(lambda: tenant.put(f"{url}/sessions/{session_id}/attendance", json={
        "marks": [{"learner_id": k, "status": v} for k, v in marks.items()]}))
    assert r.status_code == 200, r.text
    marked, count = await pages(tenant, f"{url}/sessions/{session_id}/attendance", limit=2)
    assert count == 3 and [m["learner_id"] for m in marked] == sorted(learners)
    assert {m["learner_id"]: m["status"] for m in marked} == marks
    absent = (await tenant.get(f"{url}/sessions/{session_id}/attendance", params={"status": "absent"})).json()
    assert absent == [{"learner_id": learners[1], "status": "absent"}]

    standings = (await tenant.get(f"{url}/attendance")).json()
    assert [s["full_name"] for s in standings] == sorted(NAMES, key=name_sort_key)
    assert (await pages(tenant, f"{url}/attendance", limit=2)) == (standings, 3)
    eligible = (await tenant.get(f"{url}/attendance", params={"eligible": "true"})).json()
    assert eligible == [s for s in standings if s["eligible"]]

    r = await tenant.post(f"{url}/finalisation")
    assert r.status_code == 201, r.text
    passed = sorted(x["certificate_number"] for x in r.json()["results"] if x["certificate_number"])
    assert len(passed) == 4  # 3.0 fails
    certificates, count = await pages(tenant, f"{url}/certificates", limit=2)
    assert ([c["certificate_number"] for c in certificates], count) == (passed, 2)
    r = await tenant.post(f"{tenant.assessment}/certificate-revocations",
                          json={"certificate_number": passed[1], "reason": "Cấp nhầm"})
    assert r.status_code == 200, r.text
    revoked = (await tenant.get(f"{url}/certificates", params={"revoked": "true"})).json()
    assert [c["certificate_number"] for c in revoked] == [passed[1]]
    valid, _ = await pages(tenant, f"{url}/certificates", revoked="false", limit=1)
    assert [c["certificate_number"] for c in valid] == [passed[0], *passed[2:]]

    r = await tenant.get(f"{url}/scores", params={"cursor": "bm90LWEta2V5"})
    assert r.status_code == 422 and r.json()["type"] == "urn:ttct:problem:invalid-cursor", r.text


async def _eventually(call, ready):
    for _ in range(300):
        found = await call()
        if ready(found):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(found)


async def test_notification_lists_page_by_cursor_filter_and_still_take_after(tenant, services, receiver):
    org, as_org, base = tenant.org, tenant.as_org, tenant.notification
    endpoints = []
    for i in range(3):  # each endpoint its own receiver path and secret, so every delivery verifies
        key = f"{org}-{i}"
        r = await tenant.post(f"{base}/webhook-endpoints", json={"url": receiver.url(key)}, headers=as_org)
        assert r.status_code == 201, r.text
        receiver.secrets[key] = r.json()["secret"]
        endpoints.append(r.json()["endpoint_id"])
    listed, count = await _pages_as(tenant, f"{base}/webhook-endpoints", as_org, limit=2)
    assert ([e["endpoint_id"] for e in listed], count) == (endpoints, 2)
    assert len((await tenant.get(f"{base}/webhook-endpoints", params={"enabled": "false"},
                                 headers=as_org)).json()) == 0

    class_id, _, learners = await _class_with_learners(tenant, services, (org,))
    notices = await _eventually(
        lambda: _get(tenant, f"{base}/notices", as_org, class_id=class_id, notice_type="enrolment.confirmed"),
        lambda found: len(found) == len(NAMES))
    assert [n["payload"]["data"]["learner_id"] for n in notices] == learners  # in the order they were created
    # compared by id: a notice's status and delivery log move on while its webhooks are delivered
    paged, count = await _pages_as(tenant, f"{base}/notices", as_org, class_id=class_id, limit=2)
    assert (_ids(paged), count) == (_ids(notices), 3)
    assert _ids(await _get(tenant, f"{base}/notices", as_org, learner_id=learners[2])) == _ids(notices[2:3])
    assert await _get(tenant, f"{base}/notices", as_org, notice_type="class.cancelled") == []
    # the old way, still accepted (deprecated): after = the position of the last notice seen
    assert _ids(await _get(tenant, f"{base}/notices", as_org, after=notices[1]["position"], limit=2)) \
        == _ids(notices[2:4])

    attempts = await _eventually(lambda: _get(tenant, f"{base}/deliveries", as_org, outcome="delivered"),
                                 lambda found: len(found) >= 3 * len(NAMES))
    log, count = await _pages_as(tenant, f"{base}/deliveries", as_org, limit=4)
    assert [a["attempt_id"] for a in log] == sorted(a["attempt_id"] for a in log)
    assert {a["attempt_id"] for a in attempts} <= {a["attempt_id"] for a in log} and count >= 4
    to_first = await _get(tenant, f"{base}/deliveries", as_org, endpoint_id=endpoints[0], outcome="delivered")
    assert {a["notice_id"] for a in to_first} == {n["notice_id"] for n in notices}
    assert await _get(tenant, f"{base}/deliveries", as_org, after=log[-2]["attempt_id"]) == log[-1:]
    assert (await _pages_as(tenant, f"{base}/email-deliveries", as_org, limit=1)) == ([], 1)

    people = await _get(tenant, f"{base}/learners", as_org)
    assert len(people) == len(NAMES)
    assert (await _pages_as(tenant, f"{base}/learners", as_org, limit=2)) == (people, 3)


def _ids(notices: list[dict]) -> list[str]:
    return [n["notice_id"] for n in notices]


async def _get(tenant, url: str, headers: dict, **params) -> list:
    r = await tenant.get(url, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _pages_as(tenant, url: str, headers: dict, **params) -> tuple[list, int]:
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        return await pages(client, url, **params)
