"""A sending organisation downloads its classes' result reports at any time, through the API: the list of reported
classes, each report as JSON, PDF (the paper its email carried, read back and rendered), XLSX and CSV (re-read and
matched with the JSON); only its own (another organisation: 404), with the latest results (a re-sit after the
report shows), and every download of learners' data in the access log."""
from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from ttct.contracts.learner_result_finalised import LearnerResultFinalised
from ttct.contracts.types import GradeBand
from ttct.privacy.personal import legacy_sealed
from ttct_dev.paper_checks import csv_rows, render_pages, vietnamese_text, xlsx_rows

from notification_helpers import Course, envelope, eventually, publish, registered

pytestmark = pytest.mark.integration

HOA_LOC = [{"name": "Lê Văn Thắng", "role": "bí thư", "is_head": True}]
CENTRES = {"hau-loc": {"name": "Trung tâm Chính trị huyện Hậu Lộc", "superior": "Huyện ủy Hậu Lộc",
                       "place": "Hậu Lộc", "director": "Nguyễn Văn Hùng"}}


async def test_an_organisation_downloads_its_class_result_report_as_json_pdf_xlsx_and_csv(
        start_notification, js, org_headers, province):
    service = await start_notification(centres=CENTRES)
    course = Course(province)
    names = ["Nguyễn Văn Đức", "Trần Thị Dung", "Lê Văn An"]
    await publish(js, [registered(province, "xa-hoa-loc", "Đảng ủy xã Hoa Lộc", HOA_LOC), course.opened(),
                       *(course.join(n, "xa-hoa-loc") for n in names),
                       course.join("Đỗ Minh Quân", "huyen-doan", "Huyện đoàn Hậu Lộc")])
    await publish(js, course.finalise({0: ("8.5", "gioi", "hau-loc/2026/00001"), 1: ("4.0", "khong_dat", None),
                                       2: (None, None, None), 3: ("6.0", "trung_binh", "hau-loc/2026/00002")}))
    mine = org_headers("xa-hoa-loc")
    url = f"/v1/organisations/xa-hoa-loc/result-reports/{course.class_id}"

    async def listed():
        r = await service.http.get("/v1/organisations/xa-hoa-loc/result-reports", headers=mine)
        return r.status_code == 200 and r.json() and r.json()
    [reported] = await eventually(listed)
    assert (reported["class_id"], reported["class_title"], reported["learners"], reported["passed"]) == (
        str(course.class_id), course.title, 3, 1)

    report = (await service.http.get(url, headers=mine)).json()
    assert report["centre_name"] == "Trung tâm Chính trị huyện Hậu Lộc"
    assert [x["full_name"] for x in report["results"]] == ["Lê Văn An", "Trần Thị Dung", "Nguyễn Văn Đức"]

    r = await service.http.get(url, headers={**mine, "accept": "application/pdf"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text
    assert "attachment" in r.headers["content-disposition"] and ".pdf" in r.headers["content-disposition"]
    text = vietnamese_text(r.content)
    for expected in ("HUYỆN ỦY HẬU LỘC", "ĐẢNG CỘNG SẢN VIỆT NAM", "THÔNG BÁO KẾT QUẢ HỌC TẬP", "Hậu Lộc, ngày",
                     "Kính gửi: Đảng ủy xã Hoa Lộc", course.title, "Không đủ điều kiện", "hau-loc/2026/00001",
                     "GIÁM ĐỐC", "Nguyễn Văn Hùng"):
        assert expected in text, expected
    assert "Đỗ Minh Quân" not in text  # another organisation's learner
    assert [text.index(n) for n in ("Lê Văn An", "Trần Thị Dung", "Nguyễn Văn Đức")] == sorted(
        text.index(n) for n in ("Lê Văn An", "Trần Thị Dung", "Nguyễn Văn Đức"))
    render_pages(r.content, "notification-result-report")

    rows = xlsx_rows((await service.http.get(url, params={"format": "xlsx"}, headers=mine)).content)
    assert [(x["Mã học viên"], x["Họ và tên"], x["Điểm"], x["Xếp loại"], x["Kết quả"], x["Số giấy chứng nhận"])
            for x in rows] == [
        (y["learner_id"], y["full_name"], y["final_score"], y["grade_label"] or "Không đủ điều kiện",
         "Đạt" if y["passed"] else "Không đạt", y["certificate_number"] or "—") for y in report["results"]]
    csv = csv_rows((await service.http.get(url, params={"format": "csv"}, headers=mine)).content)
    assert [x["Họ và tên"] for x in csv] == [x["Họ và tên"] for x in rows] and csv[2]["Điểm"] == "8.5"

    # only its own: another organisation's token, or a class never reported to it, looks absent
    assert (await service.http.get(url, headers=org_headers("huyen-doan"))).status_code == 404
    other = await service.http.get(f"/v1/organisations/huyen-doan/result-reports/{course.class_id}",
                                   headers=org_headers("huyen-doan"))
    assert other.status_code == 200 and [x["full_name"] for x in other.json()["results"]] == ["Đỗ Minh Quân"]
    refused = await service.http.get(url, headers={**mine, "accept": "application/json;q=0, image/png"})
    assert refused.status_code == 406 and refused.json()["detail_vi"]

    # a re-sit after the report: the download shows the latest result
    learner_id, full_name, org = course.learners[1]
    await publish(js, [envelope(f"assessment:class:{course.class_id}", LearnerResultFinalised(
        class_id=course.class_id, class_title=course.title, learner_id=learner_id,
        personal=legacy_sealed(learner_id, full_name), sending_organisation=org, eligible=True,
        final_score=Decimal("7.5"), grade_band=GradeBand.kha, passed=True, conduct="tot", sessions_attended=9,
        sessions_counted=10, certificate_number="hau-loc/2026/00003"), province,
        version=course.versions[f"assessment:class:{course.class_id}"] + 1)])

    async def resat():
        got = (await service.http.get(url, headers=mine)).json()
        return next(x for x in got["results"] if x["full_name"] == "Trần Thị Dung")["passed"] and got
    again = await eventually(resat)
    assert [x["certificate_number"] for x in again["results"]] == [None, "hau-loc/2026/00003", "hau-loc/2026/00001"]

    # the PDF and the spreadsheets named learners: the access log has them, as for the JSON
    await asyncio.sleep(0.2)
    logged = await service.app.state.runtime.pool.fetch(
        "SELECT route, learner_ids FROM personal_data_access WHERE organisation = 'xa-hoa-loc' ORDER BY id")
    downloads = [r for r in logged if r["route"] == "GET /v1/organisations/{org}/result-reports/{class_id}"]
    assert len(downloads) >= 4 and all({str(x) for x in d["learner_ids"]} == {y["learner_id"] for y in
                                                                               report["results"]} for d in downloads)


async def test_history_replayed_by_a_rebuild_emails_no_head_an_old_report(start_notification, js, smtp, province):
    """Heads receive result reports since this change: a rebuild replaying older ClassResultsFinalised (beyond the
    email back-fill window) must not email every head years of reports (the organisation's own report of then
    keeps its id, so a rebuild does not send it again)."""
    from datetime import UTC, datetime, timedelta
    from uuid import uuid4

    from ttct.contracts import EventMetadata, read_event
    from ttct.eventsourcing.eventstore import make_envelopes

    await start_notification(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_tls="none")
    course = Course(province)
    head = [{"name": "Lê Văn Thắng", "role": "bí thư", "email": "bithu@hoaloc.example.vn", "is_head": True},
            {"name": "Văn phòng", "role": "office", "email": "vanphong@hoaloc.example.vn"}]
    await publish(js, [registered(province, "xa-hoa-loc", "Đảng ủy xã Hoa Lộc", head), course.opened(),
                       course.join("Nguyễn Văn An", "xa-hoa-loc")])
    *lines, done = course.finalise({0: ("8.5", "gioi", "hau-loc/2025/00001")})
    old = datetime.now(UTC) - timedelta(days=400)
    meta = EventMetadata(province=province, centre="hau-loc", correlation_id=uuid4())
    [finalised_last_year] = make_envelopes(done.stream_id, done.stream_version - 1, [read_event(done)], meta, now=old,
                                           new_id=uuid4)
    await publish(js, [*lines, finalised_last_year])

    async def office_told():
        return [m for m in smtp.to("vanphong@hoaloc.example.vn") if m.subject.startswith("Thông báo kết quả")]
    await eventually(office_told)
    await asyncio.sleep(1.0)
    assert [m for m in smtp.to("bithu@hoaloc.example.vn") if m.subject.startswith("Thông báo kết quả")] == []
