"""Issue 8's API contract for other systems, on scheduling and enrolment: cursor pagination and filters on lists
(the body stays a JSON list; the next cursor comes in X-Next-Cursor and Link rel=next), ETag / If-Match on the
aggregates a client updates (412 when stale, last writer wins without If-Match), and learners addressed by another
system's identifier (national ID, party card), hashed and mapped once."""
from __future__ import annotations

import uuid

import httpx
import pytest

from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e
CLASS = {"programme_type": "ket_nap_dang", "title": "Lớp bồi dưỡng đối tượng kết nạp Đảng", "capacity": 2,
         "starts_on": "2027-04-01", "ends_on": "2027-04-05", "venue": "Hội trường Trung tâm"}
HEAD = {"name": "Lê Văn Bình", "role": "head of party committee", "is_head": True}


@pytest.fixture
async def centre(services, issuer):
    code = f"c-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("centre-staff", centre=code)) as client:
        client.code = code
        client.scheduling = f"{services.urls['scheduling']}/v1/centres/{code}"
        client.enrolment = f"{services.urls['enrolment']}/v1/centres/{code}"
        client.directory = f"{services.urls['enrolment']}/v1/sending-organisations"
        yield client


async def _all_pages(client: httpx.AsyncClient, url: str, **params) -> tuple[list, int]:
    """Every item, following Link rel=next; and how many pages it took."""
    items, pages, next_url = [], 0, None
    r = await client.get(url, params=params)
    while True:
        assert r.status_code == 200, r.text
        pages += 1
        items += r.json()
        if "x-next-cursor" not in r.headers:
            assert "link" not in r.headers
            return items, pages
        next_url = r.headers["link"].split(">")[0].lstrip("<")
        assert f"cursor={r.headers['x-next-cursor']}" in next_url
        r = await client.get(next_url)


async def _open(centre, **fields) -> str:
    r = await centre.post(f"{centre.scheduling}/classes", json={**CLASS, **fields})
    assert r.status_code == 201, r.text
    return r.json()["class_id"]


async def test_classes_are_paged_by_cursor_and_filtered(centre):
    days = ["2027-01-05", "2027-02-01", "2027-02-01", "2027-03-10", "2027-05-20"]
    for i, day in enumerate(days):
        await _open(centre, starts_on=day, ends_on="2027-06-30",
                    programme_type="ky_nang" if i % 2 else "ket_nap_dang")
    whole = (await centre.get(f"{centre.scheduling}/classes")).json()
    assert [c["starts_on"] for c in whole] == days
    paged, pages = await _all_pages(centre, f"{centre.scheduling}/classes", limit=2)
    assert (paged, pages) == (whole, 3)

    skills = (await centre.get(f"{centre.scheduling}/classes", params={"programme_type": "ky_nang"})).json()
    assert [c["starts_on"] for c in skills] == ["2027-02-01", "2027-03-10"]
    window = (await centre.get(f"{centre.scheduling}/classes",
                               params={"starts_from": "2027-02-01", "starts_until": "2027-03-10"})).json()
    assert [c["starts_on"] for c in window] == ["2027-02-01", "2027-02-01", "2027-03-10"]

    r = await centre.get(f"{centre.scheduling}/classes", params={"cursor": "bm90LWEta2V5"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "urn:ttct:problem:invalid-cursor" and r.json()["detail_vi"]


async def test_a_programme_changes_under_if_match_and_a_stale_one_is_refused(centre):
    url = f"{centre.scheduling}/programmes/ky-nang"
    r = await centre.get(url)
    assert r.status_code == 200 and r.headers["etag"] == '"1"'
    body = {k: v for k, v in r.json().items() if k != "code"}
    r = await centre.put(url, json={**body, "planned_sessions": 5}, headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    r = await centre.put(url, json={**body, "planned_sessions": 6}, headers={"If-Match": '"1"'})
    assert r.status_code == 412 and r.json()["type"] == "urn:ttct:problem:precondition-failed", r.text
    assert (await centre.get(url)).json()["planned_sessions"] == 5
    r = await centre.put(url, json={**body, "planned_sessions": 7})  # no If-Match: last writer wins
    assert r.status_code == 200 and r.headers["etag"] == '"3"'
    r = await centre.put(f"{centre.scheduling}/programmes/khong-co", json=body, headers={"If-Match": "*"})
    assert r.status_code == 412


async def test_an_organisation_changes_under_if_match_and_the_directory_is_paged(centre):
    area = f"area-{centre.code}"
    r = await centre.post(centre.directory, json={"code": area, "name": "Địa bàn", "kind": "centre-area",
                                                  "centre": centre.code})
    assert r.status_code == 201 and r.headers["etag"] == '"1"', r.text
    codes = [f"xa-{i}-{centre.code}" for i in range(3)]
    for code in codes:
        r = await centre.post(centre.directory, json={"code": code, "name": "Đảng ủy xã", "kind": "party-committee",
                                                      "parent_code": area, "centre": centre.code,
                                                      "contacts": [HEAD]})
        assert r.status_code == 201, r.text
    details = {"name": "Đảng ủy xã (đổi tên)", "kind": "party-committee", "parent_code": area,
               "centre": centre.code, "contacts": [HEAD]}
    url = f"{centre.directory}/{codes[0]}"
    assert (await centre.get(url)).headers["etag"] == '"1"'
    r = await centre.put(url, json=details, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["etag"] == '"2"', r.text
    r = await centre.put(url, json={**details, "name": "Lần nữa"}, headers={"If-Match": 'W/"1"'})
    assert r.status_code == 412 and r.json()["current_version"] == 2, r.text
    assert (await centre.get(url)).json()["name"] == "Đảng ủy xã (đổi tên)"

    children, pages = await _all_pages(centre, centre.directory, parent=area, limit=2)
    assert ([c["code"] for c in children], pages) == (sorted(codes), 2)
    areas = (await centre.get(centre.directory, params={"centre": centre.code, "kind": "centre-area"})).json()
    assert [a["code"] for a in areas] == [area]


def _learner(i: int, org: str, **ids) -> dict:
    return {"full_name": f"Nguyễn Văn {i}", "date_of_birth": "1990-01-01",
            "sending_organisation": {"code": org, "name": f"Đảng ủy {org}"}, **ids}


async def test_rosters_and_waiting_lists_are_paged_and_filtered_by_organisation(centre, organisations):
    await organisations({"xa-a": "Đảng ủy xa-a", "xa-b": "Đảng ủy xa-b"}, centre=centre.code)
    class_id = await _open(centre, capacity=3)
    url = f"{centre.enrolment}/classes/{class_id}"
    for i in range(6):
        body = _learner(i, "xa-a" if i % 2 else "xa-b")
        r = await _until_known(lambda body=body: centre.post(f"{url}/enrolments", json=body))
        assert r.status_code in (201, 202), r.text
    seats, pages = await _all_pages(centre, f"{url}/enrolments", limit=2)
    assert ([s["seat_number"] for s in seats], pages) == ([1, 2, 3], 2)
    assert [s["full_name"] for s in (await centre.get(f"{url}/enrolments", params={"organisation": "xa-a"})).json()] \
        == ["Nguyễn Văn 1"]
    waiting = (await centre.get(f"{url}/waiting-list", params={"organisation": "xa-b"})).json()
    assert [(w["full_name"], w["position"]) for w in waiting] == [("Nguyễn Văn 4", 2)]
    page, _ = await _all_pages(centre, f"{url}/waiting-list", limit=1)
    assert [w["position"] for w in page] == [1, 2, 3]
    quotas, pages = await _all_pages(centre, f"{url}/quotas", limit=1)
    assert ([q["organisation_code"] for q in quotas], pages) == (["xa-a", "xa-b"], 2)


async def test_a_learner_is_found_by_national_id_or_party_card_mapped_once(centre, services, issuer, organisations):
    await organisations({"xa-a": "Đảng ủy xa-a", "xa-b": "Đảng ủy xa-b"}, centre=centre.code)
    nid, card = "0" + uuid.uuid4().int.__str__()[:11], str(uuid.uuid4().int)[:10]  # a party card number: digits
    first, second = await _open(centre), await _open(centre, starts_on="2027-05-01", ends_on="2027-05-05")
    r = await _until_known(lambda: centre.post(f"{centre.enrolment}/classes/{first}/enrolments",
                                               json=_learner(1, "xa-a", national_id=nid, party_card_number=card)))
    assert r.status_code == 201, r.text
    learner_id = r.json()["learner_id"]
    # the same person sent again by another system that only knows their party card: the same learner
    r = await _until_known(lambda: centre.post(f"{centre.enrolment}/classes/{second}/enrolments",
                                               json=_learner(1, "xa-b", party_card_number=card)))
    assert r.status_code == 201 and r.json()["learner_id"] == learner_id, r.text

    for scheme, value in (("national-id", nid), ("party-card", card), ("party-card", card.lower())):
        r = await centre.get(f"{centre.enrolment}/learners/by-external-id/{scheme}/{value}")
        assert r.status_code == 200, r.text
        found = r.json()
        assert found["learner_id"] == learner_id and found["scheme"] == scheme
        assert [(e["class_id"], e["status"], e["seat_number"]) for e in found["enrolments"]] == [
            (first, "enrolled", 1), (second, "enrolled", 1)]
    r = await centre.get(f"{centre.enrolment}/learners/by-external-id/national-id/999999999")
    assert r.status_code == 404 and r.json()["type"] == "urn:ttct:problem:learner-unknown"
    other = issuer.headers("centre-staff", centre="nga-son")  # another centre sees nothing of this learner
    r = await centre.get(f"{services.urls['enrolment']}/v1/centres/nga-son/learners/by-external-id/national-id/{nid}",
                         headers=other)
    assert r.status_code == 404
