"""Dispatch decisions (quyết định cử đi học) through the public API: an organisation's decision sends learners to
two classes of a programme that requires one; the rosters and the centre's list of decisions show it, and the
organisation's result report cites it."""
from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from ttct_dev.demo import _until_known
from ttct_dev.directory import register_organisations
from ttct_dev.paper_checks import vietnamese_text

pytestmark = pytest.mark.e2e
DECISION = {"number": "125-QĐ/ĐU", "signed_on": "2027-02-20", "signer": "Ban Thường vụ Đảng ủy xã Hoa Lộc"}
CITED = "Theo Quyết định số 125-QĐ/ĐU ngày 20/02/2027 của Ban Thường vụ Đảng ủy xã Hoa Lộc"


async def _eventually(call, what: str, attempts: int = 300):
    for _ in range(attempts):
        if found := await call():
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(what)


async def test_one_decision_sends_learners_to_two_classes_of_a_programme_requiring_it_and_the_report_cites_it(
        services, issuer):
    centre, org = f"c-{uuid.uuid4().hex[:8]}", f"xa-{uuid.uuid4().hex[:6]}"
    urls = services.urls
    scheduling = f"{urls['scheduling']}/v1/centres/{centre}"
    enrolment = f"{urls['enrolment']}/v1/centres/{centre}"
    assessment = f"{urls['assessment']}/v1/centres/{centre}"
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("centre-staff", centre=centre)) as http, \
            httpx.AsyncClient(timeout=30, headers=issuer.headers("organisation", org=org)) as org_http:
        await register_organisations(http, urls["enrolment"], {org: "Đảng ủy xã Hoa Lộc"}, centre=centre)
        r = await http.put(f"{scheduling}/programmes/can-bo-nguon-qd", json={
            "programme_type": "can_bo_nguon", "name": "Bồi dưỡng cán bộ nguồn", "planned_sessions": 0,
            "requires_dispatch_decision": True})
        assert r.status_code == 200 and r.json()["requires_dispatch_decision"] is True, r.text
        classes = []
        for title in ("Lớp cán bộ nguồn khóa 1", "Lớp cán bộ nguồn khóa 2"):
            r = await http.post(f"{scheduling}/classes", json={
                "programme_type": "can_bo_nguon", "programme_code": "can-bo-nguon-qd", "title": title,
                "capacity": 10, "starts_on": "2027-03-01", "ends_on": "2027-03-05", "venue": "Hội trường"})
            assert r.status_code == 201, r.text
            classes.append(r.json()["class_id"])
        first, second = (f"{enrolment}/classes/{c}/enrolments" for c in classes)
        for url in (first, second):
            assert (await _until_known(lambda url=url: http.get(url))).status_code == 200

        learner = {"full_name": "Lê Văn Nguồn", "date_of_birth": "1988-08-08", "sending_organisation": {"code": org}}
        r = await http.post(first, json=learner)
        assert r.status_code == 422 and r.json()["type"] == "urn:ttct:problem:dispatch-decision-required", r.text
        assert "quyết định cử đi học" in r.json()["detail_vi"]
        assert (await http.get(first)).json() == []
        r = await http.post(first, json={**learner, "dispatch_decision": DECISION})
        assert r.status_code == 201 and r.json()["dispatch_decision"] == DECISION, r.text
        an = r.json()["learner_id"]

        # the same decision's other learners, into the second class from the organisation's list
        listing = "Họ và tên,Ngày sinh\nTrần Thị Bồi,02/02/1990\nPhạm Văn Dưỡng,03/03/1991\n"
        form = {"organisation_code": org, "decision_number": DECISION["number"], "decision_date": "2027-02-20",
                "decision_signer": DECISION["signer"]}
        r = await http.post(f"{second}/import", data=form, files={"file": ("ds.csv", listing.encode(), "text/csv")})
        assert r.status_code == 200 and r.json()["counts"] == {"enrolled": 2}, r.text
        r = await http.post(f"{second}/import", files={"file": ("ds.csv", "Họ và tên,Ngày sinh,Mã đơn vị\n"
                                                                          f"Võ Văn Thiếu,04/04/1992,{org}\n".encode(),
                                                                 "text/csv")})
        assert [p["code"] for p in r.json()["results"][0]["problems"]] == ["dispatch-decision-required"]

        # the same number typed with another date is not the same decision
        r = await http.post(first, json={**learner, "full_name": "Đỗ Văn Nhầm",
                                         "dispatch_decision": {**DECISION, "signed_on": "2027-02-21"}})
        assert r.status_code == 409 and r.json()["type"] == "urn:ttct:problem:dispatch-decision-differs", r.text
        assert "20/02/2027" in r.json()["detail"]

        assert [e["dispatch_decision"] for e in (await http.get(first)).json()] == [DECISION]
        assert [e["dispatch_decision"] for e in (await http.get(second)).json()] == [DECISION, DECISION]
        [decision] = (await http.get(f"{enrolment}/dispatch-decisions", params={"organisation": org})).json()
        assert {k: decision[k] for k in DECISION} == DECISION and decision["organisation_name"] == "Đảng ủy xã Hoa Lộc"
        assert sorted((x["class_title"], x["full_name"]) for x in decision["learners"]) == [
            ("Lớp cán bộ nguồn khóa 1", "Lê Văn Nguồn"), ("Lớp cán bộ nguồn khóa 2", "Phạm Văn Dưỡng"),
            ("Lớp cán bộ nguồn khóa 2", "Trần Thị Bồi")]

        # the first class's results: the organisation's report cites the decision, in JSON and on paper
        r = await _until_known(lambda: http.post(f"{assessment}/classes/{classes[0]}/scores",
                                                 json={"learner_id": an, "score": 8.5}))
        assert r.status_code == 201, r.text
        r = await http.post(f"{assessment}/classes/{classes[0]}/finalisation")
        assert r.status_code == 201, r.text
        report_url = f"{urls['notification']}/v1/organisations/{org}/result-reports/{classes[0]}"

        async def reported():
            found = await org_http.get(report_url)
            return found.status_code == 200 and found.json()
        report = await _eventually(reported, "the result report reached the organisation")
        assert report["dispatch_decisions"] == [DECISION]
        feed = (await org_http.get(f"{urls['notification']}/v1/organisations/{org}/feed")).json()["data"]
        [sent] = [item["data"] for item in feed if "learners" in item["data"]]
        assert sent["dispatch_decisions"] == [DECISION]  # the notice itself, as its webhook and email carry it
        r = await org_http.get(report_url, params={"format": "pdf"})
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert CITED in vietnamese_text(r.content)
