"""The four services as real processes: what the centre does through scheduling and enrolment reaches the sending
organisation as signed webhooks (verified with the Standard Webhooks reference library) and in its polling feed,
the same notices with the same ids."""
from __future__ import annotations

import uuid

import httpx
import pytest

from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e
CLASS = {"programme_type": "ket_nap_dang", "title": "Lớp bồi dưỡng đối tượng kết nạp Đảng khóa 9", "capacity": 1,
         "starts_on": "2027-05-03", "ends_on": "2027-05-07", "venue": "Hội trường Trung tâm"}



async def test_enrolment_waiting_list_promotion_and_cancellation_reach_the_organisation_by_webhook_and_feed(
        services, http, issuer, receiver, organisations):
    org = f"xa-{uuid.uuid4().hex[:6]}"
    sending = {"code": org, "name": "Đảng ủy xã Hoa Lộc"}
    await organisations({org: sending["name"]})
    org_http = httpx.AsyncClient(timeout=30, headers=issuer.headers("organisation", org=org))
    notification = f"{services.urls['notification']}/v1/organisations/{org}"
    r = await org_http.post(f"{notification}/webhook-endpoints", json={"url": receiver.url(org)})
    assert r.status_code == 201, r.text
    receiver.secrets[org] = r.json()["secret"]

    scheduling = f"{services.urls['scheduling']}/v1/centres/hau-loc"
    enrolment = f"{services.urls['enrolment']}/v1/centres/hau-loc"
    r = await http.post(f"{scheduling}/classes", json=CLASS)
    assert r.status_code == 201, r.text
    class_id = r.json()["class_id"]
    enrolments = f"{enrolment}/classes/{class_id}/enrolments"
    people = [{"full_name": name, "date_of_birth": "1995-02-03", "sending_organisation": sending}
              for name in ("Nguyễn Văn An", "Lê Thị Bình")]
    first = await _until_known(lambda: http.post(enrolments, json=people[0]))  # once enrolment knows the class
    second = await http.post(enrolments, json=people[1])
    assert (first.status_code, second.status_code) == (201, 202), (first.text, second.text)
    r = await http.post(f"{enrolments}/{first.json()['learner_id']}/withdraw", json={"reason": "Ốm dài ngày"})
    assert r.status_code == 200 and r.json()["promoted"], r.text
    got = await receiver.at_least(org, 3)
    r = await http.post(f"{scheduling}/classes/{class_id}/cancel", json={"reason": "Trùng lịch Đại hội"})
    assert r.status_code == 200, r.text
    got = await receiver.at_least(org, 4)

    assert all(r.verified for r in receiver.received[org])
    kinds = {r.payload["type"]: r.payload["data"] for r in got}
    assert set(kinds) == {"enrolment.confirmed", "enrolment.waitlisted", "enrolment.promoted", "class.cancelled"}
    assert (kinds["enrolment.waitlisted"]["full_name"], kinds["enrolment.waitlisted"]["position"]) == ("Lê Thị Bình", 1)
    assert kinds["enrolment.promoted"]["full_name"] == "Lê Thị Bình"
    assert kinds["class.cancelled"]["reason"] == "Trùng lịch Đại hội"
    assert [x["full_name"] for x in kinds["class.cancelled"]["learners"]] == ["Lê Thị Bình"]  # An withdrew

    feed = (await org_http.get(f"{notification}/feed")).json()
    assert {item["id"] for item in feed["data"]} == {r.webhook_id for r in got}
    assert {item["id"]: item["data"] for item in feed["data"]} == {r.webhook_id: r.payload["data"] for r in got}
    await org_http.aclose()
