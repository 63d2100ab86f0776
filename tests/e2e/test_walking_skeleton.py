"""One thin flow through all four services, as a centre and its sending organisations would use it."""
import asyncio
import uuid

import pytest

from ttct_dev.demo import ORGANISATIONS, RESULT, _until_known, play

pytestmark = pytest.mark.e2e
CLASS = {"programme_type": "so_cap_llct", "title": "Lớp Sơ cấp LLCT khóa 2", "capacity": 30,
         "starts_on": "2026-12-01", "ends_on": "2026-12-20", "venue": "Hội trường"}


async def open_class(http, services, centre="hau-loc", **overrides):
    r = await http.post(f"{services.urls['scheduling']}/v1/centres/{centre}/classes", json={**CLASS, **overrides})
    assert r.status_code == 201, r.text
    return r.json()["class_id"]


HOA_LOC = {"xa-hoa-loc": "Đảng ủy xã Hoa Lộc"}


def learner(i: int, org: str = "xa-hoa-loc") -> dict:
    return {"full_name": f"Nguyễn Văn Học Viên {i}", "date_of_birth": "1990-05-17",
            "sending_organisation": {"code": org, "name": "Đảng ủy xã Hoa Lộc"}}


async def test_the_seed_story_every_organisation_gets_one_signed_notice_per_learner(services, receiver, issuer):
    orgs = [(f"{code}-{uuid.uuid4().hex[:4]}", name) for code, name in ORGANISATIONS]
    outcome = await play(services.urls, receiver, issuer, organisations=orgs, learners_each=20)
    assert outcome.received == outcome.sent == {code: 20 for code, _ in orgs}
    assert all(r.verified for rs in receiver.received.values() for r in rs)
    for code, _ in orgs:
        data = [r.payload["data"] for r in receiver.unique(code, RESULT)]
        assert {d["sending_organisation"]["code"] for d in data} == {code}
        assert all(d["grade_label"] in {"Xuất sắc", "Giỏi", "Khá", "Trung bình", "Không đạt"} for d in data)


async def test_fifty_concurrent_enrolments_into_thirty_seats_fill_exactly_thirty(services, http, organisations):
    await organisations(HOA_LOC)
    class_id = await open_class(http, services)
    url = f"{services.urls['enrolment']}/v1/centres/hau-loc/classes/{class_id}/enrolments"
    await _until_known(lambda: http.get(url))
    responses = await asyncio.gather(*(http.post(url, json=learner(i)) for i in range(50)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 30 and codes.count(202) == 20  # beyond capacity: the waiting list, never over-filled
    waiting = [r.json() for r in responses if r.status_code == 202]
    assert all(w["status"] == "waitlisted" and w["seat_number"] is None for w in waiting)
    assert sorted(w["position"] for w in waiting) == list(range(1, 21))
    roster = (await http.get(url)).json()
    assert sorted(e["seat_number"] for e in roster) == list(range(1, 31))
    waiting_list = (await http.get(url.replace("/enrolments", "/waiting-list"))).json()
    assert [w["position"] for w in waiting_list] == list(range(1, 21))
    assert {w["learner_id"] for w in waiting_list} == {w["learner_id"] for w in waiting}


async def test_refusals_say_what_is_wrong(services, http, organisations):
    await organisations(HOA_LOC)
    enrol = f"{services.urls['enrolment']}/v1/centres/hau-loc/classes/{uuid.uuid4()}/enrolments"
    r = await http.post(enrol, json=learner(1))
    assert r.status_code == 409 and r.json()["type"].endswith("class-unknown")
    assert r.headers["content-type"].startswith("application/problem+json")

    class_id = await open_class(http, services, capacity=5)
    enrol = f"{services.urls['enrolment']}/v1/centres/hau-loc/classes/{class_id}/enrolments"
    first = await _until_known(lambda: http.post(enrol, json=learner(1)))
    assert first.status_code == 201
    again = await http.post(enrol, json=learner(1))
    assert again.status_code == 409 and "already enrolled" in again.json()["detail"]
    assert "đã có tên" in again.json()["detail_vi"]

    scores = f"{services.urls['assessment']}/v1/centres/hau-loc/classes/{class_id}/scores"
    r = await http.post(scores, json={"learner_id": str(uuid.uuid4()), "score": 7})
    assert r.status_code == 404
    for bad in (10.5, -1, 7.25, "abc"):
        r = await http.post(scores, json={"learner_id": first.json()["learner_id"], "score": bad})
        assert r.status_code == 422, bad
        assert r.json()["errors"][0]["field"] == "body.score"

    r = await http.post(f"{services.urls['scheduling']}/v1/centres/hau-loc/classes", json={**CLASS, "capacity": 0,
                                                                                             "colour": "red"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"body.capacity", "body.colour"}


async def test_classes_can_be_listed_and_read_back(services, http, issuer):
    centre = f"c-{uuid.uuid4().hex[:6]}"
    http.headers.update(issuer.headers("centre-staff", centre=[centre, "other-centre"]))
    class_id = await open_class(http, services, centre=centre, title="Lớp triển khai Nghị quyết")
    base = f"{services.urls['scheduling']}/v1/centres/{centre}/classes"
    listed = (await http.get(base)).json()
    assert [c["class_id"] for c in listed] == [class_id]
    assert (await http.get(f"{base}/{class_id}")).json()["title"] == "Lớp triển khai Nghị quyết"
    other = await http.get(f"{services.urls['scheduling']}/v1/centres/other-centre/classes/{class_id}")
    assert other.status_code == 404
