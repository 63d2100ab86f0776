"""A learner's record across the province through assessment's API: the same person (one national ID) sent to
classes at two centres has one record with both, the finished one with its grade and certificate; the staff of
either centre and the province's admins read it (JSON, PDF, XLSX), the staff of a centre the learner never sat a
class at get 404, a lecturer 403; each reading is in the access log. The organisation that sent her reads the
same record of its own people from notification; another organisation gets 404."""
from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from ttct_dev.directory import register_organisations
from ttct_dev.paper_checks import render_pages, vietnamese_text, xlsx_rows

from tests.e2e.test_assessment_flow import Centre, until_known

pytestmark = pytest.mark.e2e


async def _enrol(centre: Centre, class_id: str, national_id: str) -> str:
    await register_organisations(centre.client, centre.urls["enrolment"], {"xa-hoa-loc": "Đảng ủy xã Hoa Lộc"},
                                 headers=centre.enrolment)
    url = f"{centre.urls['enrolment']}/v1/centres/{centre.code}/classes/{class_id}/enrolments"
    r = await until_known(lambda: centre.client.post(url, headers=centre.enrolment, json={
        "full_name": "Nguyễn Thị Hồng Nhung", "date_of_birth": "1990-05-17", "national_id": national_id,
        "sending_organisation": {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}}))
    assert r.status_code == 201, r.text
    return r.json()["learner_id"]


async def test_one_record_across_two_centres_for_their_staff_and_the_province(services, issuer):
    national_id = f"0381{uuid.uuid4().int % 10**8:08d}"
    async with httpx.AsyncClient(timeout=30) as client:
        first, second = Centre(services, issuer, client), Centre(services, issuer, client)
        done, _ = await first.schedule_class(1)
        ongoing, _ = await second.schedule_class(1)
        learner = await _enrol(first, done, national_id)
        assert await _enrol(second, ongoing, national_id) == learner  # one person, one learner id
        r = await first.call("POST", f"/classes/{done}/scores", {"learner_id": learner, "score": 8.5})
        assert r.status_code == 201, r.text
        r = await first.call("POST", f"/classes/{done}/finalisation")
        assert r.status_code == 201, r.text
        certificate = r.json()["results"][0]["certificate_number"]

        url = f"{services.urls['assessment']}/v1/learners/{learner}/record"
        as_first = issuer.headers("centre-staff", centre=first.code)
        record = (await until_known(lambda: client.get(url, headers=as_first))).json()
        for _ in range(300):  # the second centre's enrolment reaches assessment by its own stream
            if len(record.get("classes", [])) == 2:
                break
            await asyncio.sleep(0.1)
            record = (await client.get(url, headers=as_first)).json()
        assert record["full_name"] == "Nguyễn Thị Hồng Nhung" and (record["completed"], record["certificates"]) == (1, 1)
        lines = {x["centre"]: x for x in record["classes"]}
        assert (lines[first.code]["grade_band"], lines[first.code]["passed"], lines[first.code]["certificate_number"]
                ) == ("gioi", True, certificate)
        assert (lines[second.code]["finalised"], lines[second.code]["passed"]) == (False, None)
        # a centre without a profile in the deployment's CENTRES is named as its papers print it
        assert lines[first.code]["centre_name"] == f"Trung tâm Chính trị {first.code}"

        assert (await client.get(url, headers=issuer.headers("centre-staff", centre=second.code))).json() == record
        assert (await client.get(url, headers=issuer.headers("province-admin"))).status_code == 200
        r = await client.get(url, headers=issuer.headers("centre-staff", centre=f"c-{uuid.uuid4().hex[:8]}"))
        assert r.status_code == 404 and r.json()["type"].endswith("learner-unknown") and r.json()["detail_vi"]
        r = await client.get(url, headers=issuer.headers("lecturer", centre=first.code))
        assert r.status_code == 403, r.text

        paper = await client.get(url, params={"format": "pdf"}, headers=as_first)
        render_pages(paper.content, "qua-trinh-hoc-tap")
        text = vietnamese_text(paper.content)
        assert "QUÁ TRÌNH HỌC TẬP" in text.upper() and "Nguyễn Thị Hồng Nhung" in text and "Giỏi" in text
        assert "Đang học" in text and certificate in text.replace(" ", "")
        rows = xlsx_rows((await client.get(url, params={"format": "xlsx"}, headers=as_first)).content)
        assert sorted((r["Xếp loại"], r["Giấy chứng nhận"] or "") for r in rows) == [("Giỏi", certificate),
                                                                                     ("Đang học", "")]

        log = await client.get(f"{services.urls['assessment']}/v1/centres/{first.code}/personal-data-access/assessment",
                               headers=as_first)
        assert log.status_code == 200, log.text
        assert any(learner in e["learner_ids"] and e["route"].endswith("/record") for e in log.json()), log.json()

        # the organisation that sent her reads her record too (notification holds its people's results)
        mine = f"{services.urls['notification']}/v1/organisations/xa-hoa-loc/learners/{learner}/record"
        as_org = issuer.headers("organisation", org="xa-hoa-loc")
        for _ in range(200):
            r = await client.get(mine, headers=as_org)
            if r.status_code == 200 and len(r.json()["classes"]) == 2 and any(
                    x["finalised"] for x in r.json()["classes"]):
                break
            await asyncio.sleep(0.05)
        assert r.status_code == 200, r.text
        seen = {x["centre"]: x for x in r.json()["classes"]}
        assert (seen[first.code]["grade_band"], seen[first.code]["certificate_number"]) == ("gioi", certificate)
        assert not seen[second.code]["finalised"]
        other = await client.get(mine.replace("xa-hoa-loc", "xa-khac"), headers=issuer.headers("organisation",
                                                                                                  org="xa-khac"))
        assert other.status_code == 404 and other.json()["type"].endswith("learner-unknown")
        rows = xlsx_rows((await client.get(mine, params={"format": "xlsx"}, headers=as_org)).content)
        assert sorted(r["Xếp loại"] for r in rows) == ["Chưa có kết quả", "Giỏi"]
