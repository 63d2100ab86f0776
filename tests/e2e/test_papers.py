"""The centre's papers through the running services' APIs, for one class taken from its timetable to its
certificates: every PDF's Vietnamese text is read back (NFC, diacritics intact) and its pages kept as PNG test
artifacts; every XLSX is re-read and matched with the API's JSON; a certificate's QR code is decoded and followed
to the public verification, which says genuine, revoked or reissued. Downloads follow the JSON's access rules and
reach the access log of personal data.

The class belongs to a centre of its own (hau-loc-giay-to, whose heading the session's CENTRES gives), built once
for the module."""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

import httpx
import pytest
from ttct_dev.directory import register_organisations
from ttct_dev.paper_checks import csv_rows, qr_codes, render_pages, vietnamese_text, xlsx_rows, xlsx_sheets

pytestmark = pytest.mark.e2e

CENTRE = "hau-loc-giay-to"
YEAR = 2027
HOA_LOC = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}
DOAN = {"code": "huyen-doan-giay-to", "name": "Huyện đoàn Hậu Lộc"}
# name, organisation, score (None: absent from the first session, so not eligible: 1 of 3 is over 20%)
LEARNERS = [("Nguyễn Văn Đức", HOA_LOC, 8.5), ("Lê Thị Ánh", HOA_LOC, 6.0), ("Trần Văn An", HOA_LOC, None),
            ("Phạm Thị Hương", DOAN, 9.2), ("Đỗ Minh Quân", DOAN, 7.0)]
HEADING = ("HUYỆN ỦY HẬU LỘC", "TRUNG TÂM CHÍNH TRỊ HUYỆN HẬU LỘC", "ĐẢNG CỘNG SẢN VIỆT NAM", "Hậu Lộc, ngày")
RETRYABLE = ("class-unknown", "learner-not-in-class", "session-unknown")


@dataclass
class Course:
    urls: dict[str, str]
    client: httpx.AsyncClient
    class_id: str = ""
    sessions: list[dict] = field(default_factory=list)
    learners: dict[str, str] = field(default_factory=dict)  # name → learner id

    def url(self, service: str, path: str) -> str:
        return f"{self.urls[service]}/v1/centres/{CENTRE}/classes/{self.class_id}{path}"

    async def call(self, method: str, url: str, body=None, expect=(200, 201)) -> dict | list:
        for _ in range(300):  # facts another service publishes may not have arrived yet
            r = await self.client.request(method, url, json=body)
            if r.status_code not in (404, 409) or not r.json().get("type", "").endswith(RETRYABLE):
                break
            await asyncio.sleep(0.05)
        assert r.status_code in expect, r.text
        return r.json()

    async def get(self, service: str, path: str, **params) -> httpx.Response:
        r = await self.client.get(self.url(service, path), params=params)
        assert r.status_code == 200, r.text
        return r

    async def paper(self, service: str, path: str, artifact: str, **params) -> str:
        """The PDF's text, read back; its pages saved as PNG."""
        r = await self.get(service, path, format="pdf", **params)
        assert r.headers["content-type"] == "application/pdf"
        render_pages(r.content, artifact)
        text = vietnamese_text(r.content)
        assert all(h in text for h in HEADING), text[:300]
        return text


def in_order(text: str, names: list[str]) -> bool:
    return [text.index(n) for n in names] == sorted(text.index(n) for n in names)


@pytest.fixture(scope="module")
async def course(services, issuer) -> Course:
    async with httpx.AsyncClient(timeout=60, headers=issuer.headers("centre-staff", centre=CENTRE)) as client:
        c = Course(services.urls, client)
        s = f"{services.urls['scheduling']}/v1/centres/{CENTRE}"
        a = f"{services.urls['assessment']}/v1/centres/{CENTRE}"
        await c.call("PUT", f"{s}/programmes/so-cap-giay-to", {
            "programme_type": "so_cap_llct", "name": "Sơ cấp lý luận chính trị", "planned_sessions": 3,
            "max_absence_ratio": "0.2", "assessment_scheme": "cai-thien-giay-to@1"})
        await c.call("POST", f"{a}/schemes/cai-thien-giay-to/versions", {
            "programme_code": "so-cap-giay-to", "components": [{"name": "final", "weight": "1"}],
            "resit_if_passed": True, "max_resits": 1})
        opened = await c.call("POST", f"{s}/classes", {
            "programme_type": "so_cap_llct", "programme_code": "so-cap-giay-to", "capacity": 30,
            "title": "Lớp Sơ cấp lý luận chính trị khóa 2 năm 2027", "starts_on": f"{YEAR}-03-01",
            "ends_on": f"{YEAR}-03-20", "venue": "Hội trường Trung tâm"})
        c.class_id = opened["class_id"]
        lecturer = await c.call("POST", f"{services.urls['scheduling']}/v1/lecturers", {
            "full_name": f"Nguyễn Thị Hạnh {uuid.uuid4().hex[:4]}", "kind": "in_house", "home_centre": CENTRE})
        venue = await c.call("POST", f"{s}/venues", {"name": "Hội trường A", "seats": 100})
        for day, topic, where in ((2, "Chủ nghĩa Mác - Lênin, tư tưởng Hồ Chí Minh", {"venue_id": venue["venue_id"]}),
                                  (3, "Lịch sử Đảng bộ huyện Hậu Lộc", {"venue_id": venue["venue_id"]}),
                                  (4, "Tham quan Khu di tích lịch sử", {"field_trip_site": "Đền thờ Dương Đình Nghệ"})):
            c.sessions.append(await c.call("POST", c.url("scheduling", "/sessions"), {
                "session_date": f"{YEAR}-03-{day:02d}", "starts_at": "07:30", "ends_at": "11:00", "topic": topic,
                "lecturer_id": lecturer["lecturer_id"], **where}))
        await register_organisations(client, services.urls["enrolment"],
                                     {o["code"]: o["name"] for o in (HOA_LOC, DOAN)}, centre=CENTRE)
        for name, org, _ in LEARNERS:
            enrolled = await c.call("POST", c.url("enrolment", "/enrolments"), {
                "full_name": name, "date_of_birth": "1990-05-17", "sending_organisation": org})
            c.learners[name] = enrolled["learner_id"]
        for i, session in enumerate(c.sessions):
            await c.call("PUT", c.url("assessment", f"/sessions/{session['session_id']}/attendance"), {"marks": [
                {"learner_id": lid, "status": "absent" if score is None and i == 0 else "present"}
                for (name, _, score), lid in zip(LEARNERS, c.learners.values())]})
        for name, _, score in LEARNERS:
            if score is not None:
                await c.call("POST", c.url("assessment", "/scores"), {"learner_id": c.learners[name], "score": score})
            await c.call("POST", c.url("assessment", "/conduct"), {"learner_id": c.learners[name], "rating": "tot"})
        await c.call("POST", c.url("assessment", "/finalisation"))
        # Lê Thị Ánh (6.0, Trung bình) re-sits and improves: her certificate is reissued; Đỗ Minh Quân's is revoked
        await c.call("POST", c.url("assessment", "/resits"), {"learner_id": c.learners["Lê Thị Ánh"], "score": 8.0})
        quan = next(x for x in await c.call("GET", c.url("assessment", "/certificates"))
                    if x["learner_id"] == c.learners["Đỗ Minh Quân"])
        await c.call("POST", f"{a}/certificate-revocations", {"certificate_number": quan["certificate_number"],
                                                               "reason": "Cấp nhầm"})
        yield c


async def test_the_timetable_prints_each_session_and_its_tables_match_the_sessions(course):
    text = await course.paper("scheduling", "/timetable", "timetable")
    assert "LỊCH HỌC" in text and "Lớp: Lớp Sơ cấp lý luận chính trị khóa 2 năm 2027" in text
    assert "Thứ Ba, 02/03/2027" in text and "07:30–11:00" in text and "Đền thờ Dương Đình Nghệ" in text
    assert "Lịch sử Đảng bộ huyện Hậu Lộc" in text and "Nguyễn Thị Hạnh" in text
    sessions = (await course.get("scheduling", "/sessions")).json()
    rows = xlsx_rows((await course.get("scheduling", "/timetable", format="xlsx")).content)
    assert [(r["Mã buổi học"], r["Ngày học"].date().isoformat(), r["Giảng viên"], r["Địa điểm"]) for r in rows] == [
        (s["session_id"], s["session_date"], s["lecturer_name"], s["field_trip_site"] or s["venue"]) for s in sessions]
    assert [r["Ngày học"] for r in csv_rows((await course.get("scheduling", "/timetable", format="csv")).content)] \
        == [s["session_date"] for s in sessions]


async def test_the_class_list_groups_learners_by_organisation_and_its_tables_match_the_roster(course, services, issuer):
    text = await course.paper("enrolment", "/class-list", "class-list")
    assert "DANH SÁCH HỌC VIÊN" in text and "Tổng số: 5 học viên." in text
    # organisations in Vietnamese order (Đ after D, before H), then given names: An, Ánh, Đức; Hương, Quân
    assert "1. Đảng ủy xã Hoa Lộc (3 học viên)" in text and "2. Huyện đoàn Hậu Lộc (2 học viên)" in text
    assert in_order(text, ["Đảng ủy xã Hoa Lộc (3", "Trần Văn An", "Lê Thị Ánh", "Nguyễn Văn Đức",
                           "Huyện đoàn Hậu Lộc (2", "Phạm Thị Hương", "Đỗ Minh Quân"])
    assert "17/05/1990" in text
    roster = {r["learner_id"]: r for r in (await course.get("enrolment", "/enrolments")).json()}
    rows = xlsx_rows((await course.get("enrolment", "/class-list", format="xlsx")).content)
    assert {r["Mã học viên"]: (r["Họ và tên"], r["Ngày sinh"].date().isoformat(), r["Mã đơn vị"], r["Tên đơn vị"],
                                 r["Số chỗ ngồi"]) for r in rows} == {
        lid: (r["full_name"], r["date_of_birth"], r["organisation_code"], r["organisation_name"], r["seat_number"])
        for lid, r in roster.items()}
    one = await course.paper("enrolment", "/class-list", "class-list-one-organisation", organisation=DOAN["code"])
    assert "Đơn vị cử học viên: Huyện đoàn Hậu Lộc" in one and "Nguyễn Văn Đức" not in one
    # the download is in the access log of personal data, naming the learners it listed
    log = await course.client.get(f"{services.urls['enrolment']}/v1/centres/{CENTRE}/personal-data-access/enrolment")
    lists = [e for e in log.json() if e["route"] == "GET /v1/centres/{centre}/classes/{class_id}/class-list"]
    assert lists and set(lists[-1]["learner_ids"]) == set(roster) and lists[-1]["role"] == "centre-staff"


async def test_the_attendance_sheet_is_signed_per_session_and_the_summary_matches_the_standings(course):
    session = course.sessions[0]
    text = await course.paper("assessment", f"/sessions/{session['session_id']}/attendance-sheet", "attendance-sheet")
    assert "DANH SÁCH HỌC VIÊN DỰ HỌC" in text and "Ký tên" in text and "Buổi học: Thứ Ba, 02/03/2027, 07:30–11:00" \
        in text and "Nội dung: Chủ nghĩa Mác - Lênin, tư tưởng Hồ Chí Minh" in text and "GIẢNG VIÊN" in text
    assert in_order(text, ["Trần Văn An", "Lê Thị Ánh", "Nguyễn Văn Đức", "Phạm Thị Hương", "Đỗ Minh Quân"])
    marks = (await course.get("assessment", f"/sessions/{session['session_id']}/attendance")).json()
    rows = xlsx_rows((await course.get("assessment", f"/sessions/{session['session_id']}/attendance-sheet",
                                       format="xlsx")).content)
    assert {r["Mã học viên"]: r["Điểm danh"] for r in rows} == {
        m["learner_id"]: {"present": "Có mặt", "absent": "Vắng"}[m["status"]] for m in marks}

    text = await course.paper("assessment", "/attendance-summary", "attendance-summary")
    assert "BẢNG TỔNG HỢP CHUYÊN CẦN" in text and "không đủ điều kiện dự thi: 1" in text
    standings = (await course.get("assessment", "/attendance")).json()
    book = (await course.get("assessment", "/attendance-summary", format="xlsx")).content
    assert xlsx_sheets(book) == ["Chuyên cần", "Điểm danh từng buổi"]
    rows = xlsx_rows(book)
    assert {r["Mã học viên"]: (r["Số buổi tính"], r["Có mặt"], r["Vắng"], r["Đủ điều kiện dự thi"]) for r in rows} \
        == {s["learner_id"]: (s["sessions_counted"], s["attended"], s["absent"], "Có" if s["eligible"] else "Không")
            for s in standings}
    assert [r["Họ và tên"] for r in rows] == ["Trần Văn An", "Lê Thị Ánh", "Nguyễn Văn Đức", "Phạm Thị Hương",
                                              "Đỗ Minh Quân"]  # sorted the Vietnamese way
    by_session = {r["Họ và tên"]: r for r in xlsx_rows(book, "Điểm danh từng buổi")}
    assert by_session["Trần Văn An"]["02/03/2027 (1)"] == "Vắng" and by_session["Trần Văn An"]["04/03/2027 (3)"] \
        == "Có mặt"


async def test_the_score_sheet_and_the_result_reports_match_the_results(course):
    text = await course.paper("assessment", "/score-sheet", "score-sheet")
    assert "BẢNG ĐIỂM" in text and "Kiểm tra cuối khóa (100%)" in text and "Hình thức đánh giá: cai-thien-giay-to@1" \
        in text and "Không đủ điều kiện dự thi" in text and "9,2" in text
    results = (await course.get("assessment", "/results")).json()
    finals = {r["learner_id"]: r for r in results["results"]}
    rows = xlsx_rows((await course.get("assessment", "/score-sheet", format="xlsx")).content)
    assert {r["Mã học viên"]: (r["Điểm tổng kết"], r["Xếp loại"] or None) for r in rows} == {
        lid: (r["final_score"], r["grade_label"]) for lid, r in finals.items()}

    text = await course.paper("assessment", "/result-reports", "result-reports")
    assert text.count("THÔNG BÁO KẾT QUẢ HỌC TẬP") == 2 and "Kính gửi: Đảng ủy xã Hoa Lộc" in text \
        and "Kính gửi: Huyện đoàn Hậu Lộc" in text
    rows = xlsx_rows((await course.get("assessment", "/result-reports", format="xlsx")).content)
    assert {r["Mã học viên"]: (r["Mã đơn vị"], r["Điểm"], r["Kết quả"], r["Số giấy chứng nhận"]) for r in rows} == {
        lid: (r["organisation_code"], r["final_score"], "Đạt" if r["passed"] else "Không đạt",
              r["certificate_number"] or "—") for lid, r in finals.items()}
    one = await course.paper("assessment", "/result-reports", "result-report-one", organisation=DOAN["code"])
    assert "Kính gửi: Huyện đoàn Hậu Lộc" in one and "Đảng ủy xã Hoa Lộc" not in one


async def test_each_certificate_s_qr_code_leads_to_its_verification_genuine_revoked_or_reissued(course, console):
    """The QR code leads to the console's public page (CERTIFICATE_VERIFICATION_URL), which answers a program
    with the verification's JSON and a browser with the page (tests/e2e/console/test_portal_public.py)."""
    certificates = {c["learner_id"]: c for c in (await course.get("assessment", "/certificates")).json()
                    if not c["revoked"]}
    r = await course.get("assessment", "/certificate-papers")
    pages = render_pages(r.content, "certificates")
    text = vietnamese_text(r.content)
    assert len(pages) == len(certificates) == 3  # Đức, Ánh (reissued), Hương; Quân's was revoked
    assert "GIẤY CHỨNG NHẬN" in text and "Đồng chí: Phạm Thị Hương" in text and "Xếp loại: Xuất sắc" in text
    async with httpx.AsyncClient(timeout=30) as anyone:  # no token: the public page
        for page in pages:
            [url] = qr_codes(page)
            assert url.startswith(f"{console.url}/verify/"), url
            verified = (await anyone.get(url)).json()
            assert verified["status"] == "genuine" and verified["genuine"], verified
            cert = next(c for c in certificates.values() if c["certificate_number"] == verified["certificate_number"])
            assert url.endswith(f"/{cert['verification_code']}") and verified["full_name"] == cert["full_name"]
            assert f"Số: {cert['certificate_number']}" in text

        every = (await course.get("assessment", "/certificates")).json()
        replaced = next(c for c in every if c["revoked"] and c["learner_id"] == course.learners["Lê Thị Ánh"])
        revoked = next(c for c in every if c["revoked"] and c["learner_id"] == course.learners["Đỗ Minh Quân"])
        for old, status in ((replaced, "reissued"), (revoked, "revoked")):
            r = await course.get("assessment", "/certificate-papers", number=old["certificate_number"])
            [page] = render_pages(r.content, f"certificate-{status}")
            assert "ĐÃ THU HỒI" in vietnamese_text(r.content)
            [url] = qr_codes(page)
            verified = (await anyone.get(url)).json()
            assert (verified["status"], verified["genuine"], verified["full_name"]) == (status, False, None)
            assert verified["message_vi"]
        assert (await anyone.get(url.rsplit("/", 1)[0] + "/0000-0000-0000-0000")).json()["status"] == "unknown"
    new = certificates[course.learners["Lê Thị Ánh"]]
    assert replaced["replaced_by"] == new["certificate_number"]


async def test_the_year_report_prints_the_figures_and_its_tables_match_them(course, services, issuer):
    async def figures() -> dict:
        for _ in range(100):
            f = (await course.client.get(f"{services.urls['assessment']}/v1/centres/{CENTRE}/figures",
                                         params={"year": YEAR})).json()
            if f["total"]["results"]["finalised"] == 5:
                return f
            await asyncio.sleep(0.1)
        raise AssertionError(f)
    f = await figures()
    url = f"{services.urls['assessment']}/v1/centres/{CENTRE}/figures/report"
    r = await course.client.get(url, params={"year": YEAR, "format": "pdf"})
    assert r.status_code == 200, r.text
    render_pages(r.content, "year-report")
    text = vietnamese_text(r.content)
    assert all(h in text for h in HEADING) and f"BÁO CÁO KẾT QUẢ ĐÀO TẠO, BỒI DƯỠNG NĂM {YEAR}" in text
    assert f"Năm {YEAR}, Trung tâm Chính trị huyện Hậu Lộc đã mở 1 lớp với 5 lượt học viên." in text
    rows = xlsx_rows((await course.client.get(url, params={"year": YEAR, "format": "xlsx"})).content)
    total = rows[-1]
    assert total["Loại chương trình"] == "Tổng cộng"
    assert (total["Số lớp"], total["Lượt học viên"], total["Có kết quả"], total["Đạt"], total["Tỉ lệ đạt"],
            total["Không đủ ĐK dự thi"], total["Xuất sắc"], total["Tỉ lệ chuyên cần"]) == (
        f["total"]["classes"], f["total"]["places"], f["total"]["results"]["finalised"],
        f["total"]["results"]["passed"], f["total"]["results"]["pass_rate"], f["total"]["results"]["ineligible"],
        f["total"]["results"]["grades"]["xuat_sac"], f["total"]["results"]["attendance_rate"])
    # 14 of the 15 sessions the five were counted for: Trần Văn An missed the first
    assert f["total"]["results"]["attendance_rate"] == 0.9333 and "Tỉ lệ chuyên cần của các lượt học viên này: 93,3%" in text
    organisations = xlsx_rows((await course.client.get(url, params={"year": YEAR, "format": "xlsx"})).content,
                              "Theo đơn vị")
    assert {o["Mã đơn vị"]: o["Lượt học viên"] for o in organisations} == {
        o["organisation_code"]: o["places"] for o in f["by_organisation"]}
    # the province's: a line per centre, for the province's admins only
    province = f"{services.urls['assessment']}/v1/figures/report"
    assert (await course.client.get(province, params={"year": YEAR})).status_code == 403
    r = await course.client.get(province, params={"year": YEAR}, headers=issuer.headers("province-admin"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    render_pages(r.content, "year-report-province")
    text = vietnamese_text(r.content)
    assert "BAN TUYÊN GIÁO TỈNH ỦY THANH HÓA" in text and "TRƯỞNG BAN" in text and "3. Theo trung tâm" in text


async def test_papers_are_refused_as_the_json_is(course, services, issuer):
    url = course.url("enrolment", "/class-list")
    async with httpx.AsyncClient(timeout=30) as anyone:
        assert (await anyone.get(url)).status_code == 401
        other = issuer.headers("centre-staff", centre="nga-son")
        assert (await anyone.get(url, headers=other)).status_code == 404  # another centre's: as if absent
        org = issuer.headers("organisation", org=HOA_LOC["code"])
        assert (await anyone.get(course.url("assessment", "/score-sheet"), headers=org)).status_code == 404
        lecturer = issuer.headers("integration", centre=[CENTRE], scope="scores:read")
        assert (await anyone.get(course.url("assessment", "/attendance-summary"), headers=lecturer)).status_code == 403
    r = await course.client.get(url, headers={"accept": "image/png"})
    assert r.status_code == 406 and r.json()["type"] == "urn:ttct:problem:not-acceptable" and r.json()["detail_vi"]
    r = await course.client.get(url, params={"format": "docx"})
    assert r.status_code == 422 and "format" in r.json()["detail"]
    r = await course.client.get(course.url("assessment", "/certificate-papers"), params={"format": "xlsx"})
    assert r.status_code == 422
    r = await course.client.get(course.url("assessment", "/certificate-papers"), params={"number": "x/2027/99999"})
    assert r.status_code == 404 and r.json()["type"] == "urn:ttct:problem:certificate-unknown"
