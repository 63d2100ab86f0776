"""Issue 8's ETag / If-Match on the aggregates a client changes, beyond programmes and organisations: a class (its
lifecycle and its sessions, one stream) in scheduling and an organisation's quota (on the class's roster) in
enrolment. A stale If-Match is refused with 412 and changes nothing; a matching one succeeds and answers the new
ETag; without If-Match the last writer wins, as before."""
from __future__ import annotations

import uuid

import httpx
import pytest

from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e
CLASS = {"programme_type": "ky_nang", "title": "Lớp bồi dưỡng kỹ năng (If-Match)", "capacity": 5,
         "starts_on": "2027-06-01", "ends_on": "2027-06-10", "venue": "Hội trường Trung tâm"}


@pytest.fixture
async def centre(services, issuer):
    code = f"c-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("province-admin")) as client:
        client.scheduling = f"{services.urls['scheduling']}/v1/centres/{code}"
        client.enrolment = f"{services.urls['enrolment']}/v1/centres/{code}"
        client.lecturers = f"{services.urls['scheduling']}/v1/lecturers"
        yield client


def stale(r: httpx.Response, now: int) -> None:
    assert r.status_code == 412, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:ttct:problem:precondition-failed" and body["detail_vi"], body
    assert body["current_version"] == now


async def test_a_class_changes_under_if_match_and_a_stale_one_changes_nothing(centre):
    r = await centre.post(f"{centre.scheduling}/classes", json=CLASS)
    assert r.status_code == 201 and r.headers["etag"] == '"1"', r.text
    url = f"{centre.scheduling}/classes/{r.json()['class_id']}"
    assert (await centre.get(url)).headers["etag"] == '"1"'

    r = await centre.post(centre.lecturers, json={"full_name": "Lê Văn Giảng", "kind": "collaborator"})
    session = {"session_date": "2027-06-02", "starts_at": "07:30", "ends_at": "11:00", "topic": "Chuyên đề 1",
               "lecturer_id": r.json()["lecturer_id"], "field_trip_site": "Khu di tích Hàm Rồng"}
    r = await centre.post(f"{url}/sessions", json=session, headers={"If-Match": '"1"'})
    assert r.status_code == 201 and r.headers["etag"] == '"2"', r.text  # a session changes the class's version
    session_id = r.json()["session_id"]

    stale(await centre.post(f"{url}/start", headers={"If-Match": '"1"'}), 2)
    stale(await centre.post(f"{url}/sessions/{session_id}/cancel", headers={"If-Match": '"1"'}), 2)
    stale(await centre.post(f"{url}/sessions", json={**session, "session_date": "2027-06-03"},
                            headers={"If-Match": '"1"'}), 2)
    r = await centre.get(url)
    assert (r.json()["status"], r.json()["planned_sessions"], r.headers["etag"]) == ("open", 4, '"2"')  # ky_nang's 4
    sessions = (await centre.get(f"{url}/sessions")).json()
    assert [(s["session_id"], s["status"]) for s in sessions] == [(session_id, "scheduled")]

    r = await centre.post(f"{url}/start", headers={"If-Match": '"2"'})
    assert r.status_code == 200 and r.json()["status"] == "in_progress" and r.headers["etag"] == '"3"', r.text
    assert (await centre.get(url)).headers["etag"] == '"3"'
    r = await centre.post(f"{url}/cancel", json={"reason": "Trùng lịch"}, headers={"If-Match": 'W/"2", "9"'})
    stale(r, 3)
    r = await centre.post(f"{url}/complete")  # no If-Match: goes ahead as before
    assert r.status_code == 200 and r.json()["status"] == "completed" and r.headers["etag"] == '"4"', r.text
    r = await centre.post(f"{url}/cancel", json={"reason": "Trùng lịch"}, headers={"If-Match": '"4"'})
    assert r.status_code == 409, r.text  # the version matches, the rule still refuses: a completed class stays
    r = await centre.post(f"{centre.scheduling}/classes/{uuid.uuid4()}/start", headers={"If-Match": "*"})
    assert r.status_code == 404, r.text


async def test_a_quota_changes_under_if_match_on_the_roster_version_and_a_stale_one_changes_nothing(centre,
                                                                                                   organisations):
    await organisations({"xa-a": "Đảng ủy xã A"})
    r = await centre.post(f"{centre.scheduling}/classes", json=CLASS)
    class_id = r.json()["class_id"]
    url = f"{centre.enrolment}/classes/{class_id}/quotas/xa-a"
    r = await _until_known(lambda: centre.get(url))  # once enrolment has heard of the class
    assert r.status_code == 200, r.text
    assert (r.json(), r.headers["etag"]) == ({"organisation_code": "xa-a", "quota": None, "seated": 0,
                                              "waiting": 0}, '"0"')

    r = await centre.put(url, json={"quota": 2}, headers={"If-Match": '"0"'})
    assert r.status_code == 200 and r.headers["etag"] == '"1"', r.text
    r = await centre.post(f"{centre.enrolment}/classes/{class_id}/enrolments", json={
        "full_name": "Nguyễn Văn An", "date_of_birth": "1990-01-01",
        "sending_organisation": {"code": "xa-a", "name": "Đảng ủy xã A"}})
    assert r.status_code == 201, r.text  # any change to the roster makes the quota's ETag stale

    stale(await centre.put(url, json={"quota": 1}, headers={"If-Match": '"1"'}), 2)
    r = await centre.get(url)
    assert (r.json()["quota"], r.json()["seated"], r.headers["etag"]) == (2, 1, '"2"')
    listed = await centre.get(f"{centre.enrolment}/classes/{class_id}/quotas")
    assert listed.headers["etag"] == '"2"' and listed.json()[0]["quota"] == 2

    r = await centre.put(url, json={"quota": 1}, headers={"If-Match": '"2"'})
    assert r.status_code == 200 and r.json()["quota"] == 1 and r.headers["etag"] == '"3"', r.text
    r = await centre.put(url, json={"quota": 3})  # no If-Match: last writer wins
    assert r.status_code == 200 and r.headers["etag"] == '"4"', r.text
    r = await centre.put(url, json={"quota": 3}, headers={"If-Match": '"4"'})  # no change: the same version
    assert r.status_code == 200 and r.headers["etag"] == '"4"', r.text
    assert (await centre.get(url)).json()["quota"] == 3
