"""A class's capacity through the public APIs on the running services: a class planned to refuse when full
has no seats to read until it opens (404, as its roster), then refuses the learner who finds no seat (409, naming
it and its capacity); the centre changes the seats of an open class (never below those taken; raising them
promotes waiting learners in order, and their organisation is told)."""
from __future__ import annotations

import uuid

import httpx
import pytest

from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e
CLASS = {"programme_type": "ket_nap_dang", "title": "Lớp bồi dưỡng đối tượng kết nạp Đảng khóa 11", "capacity": 2,
         "starts_on": "2027-06-07", "ends_on": "2027-06-11", "venue": "Hội trường Trung tâm"}


def person(i: int, org: dict) -> dict:
    return {"full_name": f"Trần Văn Học Viên {i}", "date_of_birth": "1990-05-06", "sending_organisation": org}


async def test_a_class_planned_to_refuse_when_full_refuses_the_learner_who_finds_no_seat(services, http, organisations):
    scheduling = f"{services.urls['scheduling']}/v1/centres/hau-loc"
    enrolment = f"{services.urls['enrolment']}/v1/centres/hau-loc"
    org = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}
    await organisations({org["code"]: org["name"]})
    r = await http.post(f"{scheduling}/classes", json={**CLASS, "status": "planned", "when_full": "refuse"})
    assert r.status_code == 201, r.text
    class_id = r.json()["class_id"]
    r = await http.get(f"{enrolment}/classes/{class_id}/capacity")  # only planned: nothing to enrol in yet
    assert r.status_code == 404 and r.json()["type"] == "urn:ttct:problem:class-unknown", r.text
    r = await http.post(f"{scheduling}/classes/{class_id}/open")
    assert r.status_code == 200, r.text
    r = await http.get(f"{scheduling}/classes/{class_id}")
    assert r.json()["when_full"] == "refuse"
    enrolments = f"{enrolment}/classes/{class_id}/enrolments"
    first = await _until_known(lambda: http.post(enrolments, json=person(1, org)))
    second = await http.post(enrolments, json=person(2, org))
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)

    third = await http.post(enrolments, json=person(3, org))

    assert third.status_code == 409, third.text
    problem = third.json()
    assert third.headers["content-type"].startswith("application/problem+json")
    assert problem["type"] == "urn:ttct:problem:class-full" and problem["capacity"] == 2
    assert CLASS["title"] in problem["detail"] and "2 seats" in problem["detail"]
    assert problem["detail_vi"] == f"Lớp {CLASS['title']} đã đủ 2 chỗ và không nhận danh sách chờ"
    assert (await http.get(f"{enrolment}/classes/{class_id}/waiting-list")).json() == []
    r = await http.get(f"{enrolment}/classes/{class_id}/capacity")
    assert r.json() == {"capacity": 2, "seats_taken": 2, "waiting": 0, "when_full": "refuse"}



async def test_the_centre_changes_a_class_s_seats_never_below_those_taken_and_more_seats_promote_in_order(
        services, http, issuer, receiver, organisations):
    code = f"xa-{uuid.uuid4().hex[:6]}"
    org = {"code": code, "name": "Đảng ủy xã Liên Lộc"}
    await organisations({code: org["name"]})
    org_http = httpx.AsyncClient(timeout=30, headers=issuer.headers("organisation", org=code))
    r = await org_http.post(f"{services.urls['notification']}/v1/organisations/{code}/webhook-endpoints",
                            json={"url": receiver.url(code)})
    assert r.status_code == 201, r.text
    receiver.secrets[code] = r.json()["secret"]
    scheduling = f"{services.urls['scheduling']}/v1/centres/hau-loc"
    enrolment = f"{services.urls['enrolment']}/v1/centres/hau-loc"
    r = await http.post(f"{scheduling}/classes", json=CLASS)
    assert r.status_code == 201, r.text
    class_id = r.json()["class_id"]
    enrolments, capacity = f"{enrolment}/classes/{class_id}/enrolments", f"{enrolment}/classes/{class_id}/capacity"
    answers = [await _until_known(lambda: http.post(enrolments, json=person(1, org)))]
    for i in (2, 3, 4, 5):
        answers.append(await http.post(enrolments, json=person(i, org)))
    assert [a.status_code for a in answers] == [201, 201, 202, 202, 202]
    waiting = [a.json()["learner_id"] for a in answers[2:]]

    lower = await http.put(capacity, json={"capacity": 1})
    assert lower.status_code == 409, lower.text
    assert lower.json()["type"] == "urn:ttct:problem:capacity-below-seats-taken" and lower.json()["seats_taken"] == 2
    assert "đã có 2 học viên" in lower.json()["detail_vi"]

    read = await http.get(capacity)
    assert read.json() == {"capacity": 2, "seats_taken": 2, "waiting": 3, "when_full": "waiting-list"}
    await http.post(enrolments, json=person(6, org))  # the roster moves on: the ETag read is stale
    stale = await http.put(capacity, json={"capacity": 4}, headers={"If-Match": read.headers["ETag"]})
    assert stale.status_code == 412, stale.text

    fresh = await http.get(capacity)
    raised = await http.put(capacity, json={"capacity": 4}, headers={"If-Match": fresh.headers["ETag"]})

    assert raised.status_code == 200, raised.text
    assert [p["learner_id"] for p in raised.json()["promoted"]] == waiting[:2]
    assert [p["seat_number"] for p in raised.json()["promoted"]] == [3, 4]
    assert raised.headers["ETag"] != fresh.headers["ETag"]
    roster = (await http.get(enrolments)).json()
    assert len(roster) == 4 and {row["learner_id"] for row in roster} >= set(waiting[:2])
    assert [w["learner_id"] for w in (await http.get(f"{enrolment}/classes/{class_id}/waiting-list")).json()][:1] \
        == waiting[2:]
    assert (await http.get(capacity)).json()["capacity"] == 4
    # what a class's page shows, in one request: the same as the four reads, with the same ETag
    glance, seats = await http.get(f"{enrolment}/classes/{class_id}/roster"), await http.get(capacity)
    assert glance.status_code == 200 and glance.headers["ETag"] == seats.headers["ETag"], glance.text
    assert glance.json() == {
        "seats": seats.json(), "enrolments": (await http.get(enrolments)).json(),
        "waiting_list": (await http.get(f"{enrolment}/classes/{class_id}/waiting-list")).json(),
        "quotas": (await http.get(f"{enrolment}/classes/{class_id}/quotas")).json()}
    assert len(glance.json()["enrolments"]) == 4 and len(glance.json()["waiting_list"]) == 2
    assert (await http.get(f"{scheduling}/classes/{class_id}")).json()["capacity"] == 2  # as it opened

    got = await receiver.at_least(code, 8)  # 2 confirmed, 4 waitlisted, 2 promoted
    promoted = [r.payload["data"]["full_name"] for r in got if r.payload["type"] == "enrolment.promoted"]
    assert sorted(promoted) == ["Trần Văn Học Viên 3", "Trần Văn Học Viên 4"]
    await org_http.aclose()
