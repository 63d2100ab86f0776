"""An external system that retries every POST (same Idempotency-Key) never creates anything twice."""
import asyncio
import uuid

import pytest

from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e
CLASS = {"programme_type": "nghiep_vu", "title": "Nghiệp vụ công tác Đảng", "capacity": 40,
         "starts_on": "2026-12-01", "ends_on": "2026-12-05", "venue": "Hội trường"}


def learner(name: str) -> dict:
    return {"full_name": name, "date_of_birth": "1979-09-02",
            "sending_organisation": {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}}


async def test_a_system_retrying_every_post_three_times_creates_each_thing_once(services, http, organisations):
    await organisations({"xa-hoa-loc": "Đảng ủy xã Hoa Lộc"})
    classes = f"{services.urls['scheduling']}/v1/centres/hau-loc/classes"
    key = str(uuid.uuid4())
    opened = [await http.post(classes, json=CLASS, headers={"Idempotency-Key": key}) for _ in range(3)]
    assert [r.status_code for r in opened] == [201, 201, 201]
    assert len({r.json()["class_id"] for r in opened}) == 1
    assert [r.headers.get("idempotent-replayed") for r in opened] == [None, "true", "true"]
    class_id = opened[0].json()["class_id"]

    enrol = f"{services.urls['enrolment']}/v1/centres/hau-loc/classes/{class_id}/enrolments"
    # wait until enrolment has heard of the class (a refusal would be the key's kept answer, as it should be)
    await _until_known(lambda: http.post(enrol, json=learner("Người Thử Nghiệm")))
    for i in range(10):
        key = str(uuid.uuid4())
        answers = [await http.post(enrol, json=learner(f"Lê Văn Khách {i}"), headers={"Idempotency-Key": key})
                   for _ in range(3)]
        assert {r.status_code for r in answers} == {201} and len({r.json()["learner_id"] for r in answers}) == 1
    roster = (await http.get(enrol)).json()
    assert len(roster) == 11


async def test_concurrent_requests_with_one_key_do_the_work_once(services, http):
    classes = f"{services.urls['scheduling']}/v1/centres/hau-loc/classes"
    key = str(uuid.uuid4())
    answers = await asyncio.gather(*(http.post(classes, json={**CLASS, "title": "Lớp đồng thời"},
                                               headers={"Idempotency-Key": key}) for _ in range(8)))
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["class_id"] for r in answers}) == 1
    listed = [c for c in (await http.get(classes)).json() if c["title"] == "Lớp đồng thời"]
    assert len(listed) == 1


async def test_a_key_reused_for_another_body_is_refused(services, http):
    classes = f"{services.urls['scheduling']}/v1/centres/hau-loc/classes"
    key = str(uuid.uuid4())
    assert (await http.post(classes, json=CLASS, headers={"Idempotency-Key": key})).status_code == 201
    other = await http.post(classes, json={**CLASS, "capacity": 41}, headers={"Idempotency-Key": key})
    assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused")


async def test_keys_belong_to_their_caller(services, http, issuer):
    classes = f"{services.urls['scheduling']}/v1/centres/hau-loc/classes"
    key = str(uuid.uuid4())
    mine = await http.post(classes, json=CLASS, headers={"Idempotency-Key": key})
    theirs = await http.post(classes, json=CLASS, headers={
        "Idempotency-Key": key, **issuer.headers("centre-staff", centre="hau-loc", subject="someone-else")})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["class_id"] != theirs.json()["class_id"]
