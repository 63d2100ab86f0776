"""The console for those outside the centre, in a real browser: a sending organisation (its learners' results, the
class's result report, its webhook addresses with a test notice verified by the Standard Webhooks library, a failed
delivery replayed, nobody else's learners), the province's administrator (two centres side by side, a centre's
figures, the year report exported) and anyone with a certificate (its QR code read from the PDF leads to the public
page: genuine, revoked). Screenshots: test-artifacts/console/; papers: test-artifacts/papers/.

Two classes of 2029 (a year no other test uses, so the province's figures are these alone), one at Hậu Lộc and one
at Nga Sơn, are taken through the APIs from planning to certificates once for the module."""
from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from playwright.async_api import Page, expect
from ttct_dev.directory import register_organisations
from ttct_dev.paper_checks import qr_codes, render_pages, vietnamese_text, xlsx_rows

pytestmark = pytest.mark.e2e

YEAR = 2029
HOA_LOC = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}  # the demo account donvi.xahoaloc's
OTHER = {"code": "doan-xa-portal", "name": "Đoàn Thanh niên xã Hoa Lộc"}
# centre → learners (name, organisation, score): each class has Hoa Lộc's people and another organisation's
CLASSES = {
    "hau-loc": [("Nguyễn Thị Hoà", HOA_LOC, 9.5), ("Lê Văn Tâm", HOA_LOC, 7.0), ("Trần Văn Khải", OTHER, 8.0)],
    "nga-son": [("Phạm Văn Bắc", HOA_LOC, 8.5), ("Đỗ Thị Lan", OTHER, 6.0)],
}
ABSENT_ONCE = "Đỗ Thị Lan"  # misses one of Nga Sơn's two sessions: its attendance is 3 of 4
RETRYABLE = ("class-unknown", "learner-not-in-class", "session-unknown", "programme-unknown")


@dataclass
class Finished:
    """The classes, their learners' ids by name and their certificates, as the centres' staff see them."""

    class_ids: dict[str, str] = field(default_factory=dict)  # centre → class id
    learners: dict[str, str] = field(default_factory=dict)  # name → learner id
    certificates: dict[str, dict] = field(default_factory=dict)  # name → certificate


async def call(client: httpx.AsyncClient, method: str, url: str, body=None, expect=(200, 201, 202)) -> dict | list:
    for _ in range(300):  # facts another service publishes may not have arrived yet
        r = await client.request(method, url, json=body)
        if r.status_code not in (404, 409) or not r.json().get("type", "").endswith(RETRYABLE):
            break
        await asyncio.sleep(0.05)
    assert r.status_code in expect, r.text
    return r.json()


async def finish_a_class(urls: dict[str, str], client: httpx.AsyncClient, centre: str, done: Finished,
                         learners: list[tuple[str, dict, float]] | None = None, year: int = YEAR) -> None:
    """A class of `year` at `centre` taken to certificates: `learners` (name, organisation, score), by default
    the centre's of CLASSES."""
    learners = CLASSES[centre] if learners is None else learners
    s, a = f"{urls['scheduling']}/v1/centres/{centre}", f"{urls['assessment']}/v1/centres/{centre}"
    await call(client, "PUT", f"{s}/programmes/so-cap-cong", {
        "programme_type": "so_cap_llct", "name": "Sơ cấp lý luận chính trị", "planned_sessions": 2,
        "max_absence_ratio": "0.5", "assessment_scheme": "cong-portal@1"})
    await call(client, "POST", f"{a}/schemes/cong-portal/versions", {
        "programme_code": "so-cap-cong", "components": [{"name": "final", "weight": "1"}]}, expect=(201, 409))
    opened = await call(client, "POST", f"{s}/classes", {
        "programme_type": "so_cap_llct", "programme_code": "so-cap-cong", "capacity": 30,
        "title": f"Lớp Sơ cấp lý luận chính trị {centre} năm {year} ({uuid.uuid4().hex[:4]})",
        "starts_on": f"{year}-04-01", "ends_on": f"{year}-04-10", "venue": "Hội trường Trung tâm"})
    class_id = done.class_ids[centre] = opened["class_id"]
    base = f"/centres/{centre}/classes/{class_id}"
    lecturer = await call(client, "POST", f"{urls['scheduling']}/v1/lecturers", {
        "full_name": f"Nguyễn Văn Giảng {uuid.uuid4().hex[:4]}", "kind": "in_house", "home_centre": centre})
    venue = await call(client, "POST", f"{s}/venues", {"name": f"Hội trường {uuid.uuid4().hex[:4]}", "seats": 80})
    sessions = [await call(client, "POST", f"{urls['scheduling']}/v1{base}/sessions", {
        "session_date": f"{year}-04-0{day}", "starts_at": "07:30", "ends_at": "11:00", "topic": topic,
        "lecturer_id": lecturer["lecturer_id"], "venue_id": venue["venue_id"]})
        for day, topic in ((2, "Chủ nghĩa Mác - Lênin"), (3, "Lịch sử Đảng bộ"))]
    await register_organisations(client, urls["enrolment"], {o["code"]: o["name"] for _, o, _ in learners},
                                 centre=centre)
    for name, org, _ in learners:
        enrolled = await call(client, "POST", f"{urls['enrolment']}/v1{base}/enrolments", {
            "full_name": name, "date_of_birth": "1991-02-03", "sending_organisation": org})
        done.learners[name] = enrolled["learner_id"]
    ours = [done.learners[name] for name, _, _ in learners]
    absent = done.learners.get(ABSENT_ONCE) if centre == "nga-son" else None
    for i, session in enumerate(sessions):
        await call(client, "PUT", f"{urls['assessment']}/v1{base}/sessions/{session['session_id']}/attendance",
                   {"marks": [{"learner_id": lid, "status": "absent" if lid == absent and i == 0 else "present"}
                              for lid in ours]})
    for name, _, score in learners:
        await call(client, "POST", f"{urls['assessment']}/v1{base}/scores",
                   {"learner_id": done.learners[name], "score": score})
        await call(client, "POST", f"{urls['assessment']}/v1{base}/conduct",
                   {"learner_id": done.learners[name], "rating": "tot"})
    await call(client, "POST", f"{urls['assessment']}/v1{base}/finalisation")
    for cert in await call(client, "GET", f"{urls['assessment']}/v1{base}/certificates"):
        done.certificates[cert["full_name"]] = cert


@pytest.fixture(scope="module")
async def finished(services, issuer) -> Finished:
    done = Finished()
    for centre in CLASSES:
        async with httpx.AsyncClient(timeout=60, headers=issuer.headers("centre-staff", centre=centre)) as staff:
            await finish_a_class(services.urls, staff, centre, done)
    # Lê Văn Tâm's certificate is revoked (the public page says so)
    async with httpx.AsyncClient(timeout=60, headers=issuer.headers("centre-staff", centre="hau-loc")) as staff:
        revoked = await call(staff, "POST", f"{services.urls['assessment']}/v1/centres/hau-loc/certificate-revocations",
                             {"certificate_number": done.certificates["Lê Văn Tâm"]["certificate_number"],
                              "reason": "Cấp nhầm"})
        done.certificates["Lê Văn Tâm"] = revoked
    # notification has made Hoa Lộc's result reports of both classes (its projections follow the events)
    org = f"{services.urls['notification']}/v1/organisations/{HOA_LOC['code']}"
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("organisation", org=HOA_LOC["code"])) as hoa_loc:
        for _ in range(300):
            reported = {r["class_id"] for r in (await hoa_loc.get(f"{org}/result-reports")).json()}
            if set(done.class_ids.values()) <= reported:
                break
            await asyncio.sleep(0.1)
        assert set(done.class_ids.values()) <= reported
    return done


async def sign_in(page: Page, console_url: str, username: str, path: str) -> None:
    await page.goto(f"{console_url}{path}")
    await expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()  # the identity provider's page
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill("demo")
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_url(re.compile(re.escape(f"{console_url}{path.split('?')[0]}")))


async def test_an_organisation_finds_its_learner_s_result_downloads_the_report_and_manages_its_webhooks(
        console, page: Page, screenshot, finished, receiver, services, issuer):
    await sign_in(page, console.url, "donvi.xahoaloc", f"/organisation?year={YEAR}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Học viên của đơn vị")
    hoa = page.get_by_role("row", name=re.compile("Nguyễn Thị Hoà"))
    certificate = finished.certificates["Nguyễn Thị Hoà"]["certificate_number"]
    await expect(hoa).to_contain_text("2/2 (đủ điều kiện)")
    await expect(hoa).to_contain_text("9,5")
    await expect(hoa).to_contain_text("Xuất sắc")
    await expect(hoa).to_contain_text("Rèn luyện tốt")
    await expect(hoa).to_contain_text(certificate)
    await expect(page.get_by_text("Trần Văn Khải")).to_have_count(0)  # another organisation's learner
    await screenshot("1-learners")

    await hoa.get_by_role("link", name="Nguyễn Thị Hoà").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Quá trình học tập")
    await expect(page.get_by_role("row", name=certificate)).to_contain_text("Xuất sắc")
    await expect(page.get_by_role("row", name=certificate)).to_contain_text("Trung tâm Chính trị huyện Hậu Lộc")
    await screenshot("2-record")

    # the class's result report: read on the page, downloaded as the PDF the email carries
    await page.goto(f"{console.url}/organisation/reports/{finished.class_ids['hau-loc']}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Thông báo kết quả học tập")
    await screenshot("3-report")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Tải thông báo kết quả học tập (PDF)").click()
    download = await download_info.value
    paper = (await download.path()).read_bytes()
    render_pages(paper, "portal-result-report")
    text = vietnamese_text(paper)
    assert "THÔNG BÁO KẾT QUẢ HỌC TẬP" in text and "Kính gửi: Đảng ủy xã Hoa Lộc" in text
    assert "Nguyễn Thị Hoà" in text and "Lê Văn Tâm" in text and "Trần Văn Khải" not in text

    # a webhook address: the secret shown once; a test notice the receiver verifies with `standardwebhooks`
    hook = f"portal-{uuid.uuid4().hex[:6]}"
    await page.goto(f"{console.url}/organisation/webhooks")
    await page.get_by_role("button", name="Đăng ký địa chỉ này").click()  # empty: refused, said beside the field
    await expect(page.get_by_role("alert")).to_contain_text("Nhập đầy đủ địa chỉ nơi nhận")
    await screenshot("4-webhook-refused")
    await page.get_by_label("Địa chỉ nơi nhận (URL)").fill(receiver.url(hook))
    await page.get_by_label("Mô tả (không bắt buộc)").fill("Hệ thống một cửa của xã")
    await page.get_by_role("button", name="Đăng ký địa chỉ này").click()
    secret = (await page.locator("#secret").inner_text()).strip()
    assert secret.startswith("whsec_")
    receiver.secrets[hook] = secret
    await screenshot("5-webhook-secret")
    await page.goto(f"{console.url}/organisation/webhooks")
    await expect(page.locator("#secret")).to_have_count(0)  # never shown again
    row = page.get_by_role("row", name=receiver.url(hook))
    await row.get_by_role("button", name=re.compile("Gửi thông báo thử")).click()
    await expect(page.get_by_role("status")).to_contain_text("Đã gửi thông báo thử")
    [test_notice] = await receiver.at_least(hook, 1)
    assert test_notice.verified and test_notice.payload["type"] == "webhook.test"

    # a notice the receiver keeps refusing fails for good; once the receiver is fixed, it is replayed from the log
    receiver.fail_next[hook] = [500] * 1000
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("centre-staff", centre="hau-loc")) as staff:
        await register_organisations(staff, services.urls["enrolment"], {HOA_LOC["code"]: HOA_LOC["name"]})
        opened = await call(staff, "POST", f"{services.urls['scheduling']}/v1/centres/hau-loc/classes", {
            "programme_type": "dang_vien_moi", "title": f"Lớp bồi dưỡng đảng viên mới {hook}", "capacity": 10,
            "starts_on": f"{YEAR}-09-01", "ends_on": f"{YEAR}-09-05", "venue": "Hội trường Trung tâm"})
        await call(staff, "POST", f"{services.urls['enrolment']}/v1/centres/hau-loc/classes/{opened['class_id']}"
                                  "/enrolments", {"full_name": "Vũ Văn Mới", "date_of_birth": "1995-01-01",
                                                  "sending_organisation": HOA_LOC})
    org = f"{services.urls['notification']}/v1/organisations/{HOA_LOC['code']}"
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("organisation", org=HOA_LOC["code"])) as hoa_loc:
        endpoint = next(e for e in (await hoa_loc.get(f"{org}/webhook-endpoints")).json()
                        if e["url"] == receiver.url(hook))
        for _ in range(300):
            failed = (await hoa_loc.get(f"{org}/deliveries", params={"endpoint_id": endpoint["endpoint_id"],
                                                                       "outcome": "failed"})).json()
            if failed:
                break
            await asyncio.sleep(0.1)
        assert failed, "no delivery failed"
    receiver.fail_next[hook] = []
    await page.goto(f"{console.url}/organisation/webhooks")
    await row.get_by_role("link", name=re.compile("Nhật ký gửi")).click()
    await page.get_by_label("Kết quả", exact=True).select_option("failed")
    await page.get_by_role("button", name="Xem").click()
    failed_row = page.get_by_role("row", name=re.compile(failed[0]["notice_id"][:8])).first
    await expect(failed_row).to_contain_text("HTTP 500")
    await expect(failed_row).to_contain_text("Không thành công")
    await screenshot("6-delivery-log")
    await failed_row.get_by_role("button", name=re.compile("Gửi lại")).click()
    await expect(page.get_by_role("status")).to_contain_text(re.compile(r"đang được gửi lại đến \d+ địa chỉ"))
    for _ in range(300):
        again = [r for r in receiver.unique(hook) if r.webhook_id == failed[0]["notice_id"]]
        if again:
            break
        await asyncio.sleep(0.1)
    assert again and again[0].verified

    # the notices and their status; replaying everything since a time is refused until the time is readable
    await page.goto(f"{console.url}/organisation/notices?notice_type=class.result_report")
    await expect(page.get_by_role("row", name=re.compile("Thông báo kết quả học tập")).first).to_be_visible()
    await screenshot("7-notices")
    await page.get_by_label("Kể từ").fill("hôm qua")
    await page.get_by_role("button", name="Gửi lại", exact=True).last.click()
    await expect(page.get_by_role("alert")).to_contain_text("ngày/tháng/năm giờ:phút")
    await expect(page.get_by_label("Kể từ")).to_have_value("hôm qua")
    now = datetime.now(timezone(timedelta(hours=7))).strftime("%d/%m/%Y %H:%M")  # Vietnam's time, as typed
    await page.get_by_label("Kể từ").fill(now)
    await page.get_by_role("button", name="Gửi lại", exact=True).last.click()
    await expect(page.get_by_role("status")).to_contain_text(f"kể từ {now}")

    # contacts (the head of the party committee among them) and the channels
    await page.goto(f"{console.url}/organisation/settings")
    await expect(page.get_by_role("row", name=re.compile("Người đứng đầu cấp ủy"))).to_be_visible()
    await page.get_by_label("Gửi một bản tổng hợp cho mỗi lớp").first.check()
    await page.get_by_role("button", name="Lưu cài đặt").click()
    await expect(page.get_by_role("status")).to_contain_text("Đã lưu cài đặt")
    await expect(page.locator("#webhook-digest")).to_be_checked()
    await screenshot("8-settings")
    await page.get_by_label("Gửi từng thông báo ngay khi có").first.check()
    await page.get_by_role("button", name="Lưu cài đặt").click()

    # disabled, enabled, and left disabled: the receiver stops with this test
    await page.goto(f"{console.url}/organisation/webhooks")
    await row.get_by_role("button", name=re.compile("^Tắt")).click()
    await expect(row).to_contain_text("Đã tắt")
    await row.get_by_role("button", name=re.compile("Bật lại")).click()
    await expect(row).to_contain_text("Đang bật")
    await screenshot("9-webhooks")
    await row.get_by_role("button", name=re.compile("^Tắt")).click()
    await expect(row).to_contain_text("Đã tắt")


async def test_an_organisation_cannot_see_another_organisation_s_learners(console, page: Page, screenshot,
                                                                          finished):
    await sign_in(page, console.url, "donvi.xahoaloc", "/organisation")
    response = await page.goto(f"{console.url}/organisation/learners/{finished.learners['Trần Văn Khải']}")
    assert response.status == 404
    await screenshot("not-found")
    response = await page.goto(f"{console.url}/organisation/learners/{finished.learners['Nguyễn Thị Hoà']}")
    assert response.status == 200
    response = await page.goto(f"{console.url}/organisation/reports/{uuid.uuid4()}/download?format=pdf")
    assert response.status == 404  # no report of a class it sent nobody to
    response = await page.goto(f"{console.url}/province")  # nor the province's figures
    assert response.status == 403


async def test_a_province_admin_compares_two_centres_drills_down_and_exports(console, page: Page, screenshot,
                                                                             finished, services, issuer):
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("province-admin")) as admin:
        for _ in range(200):  # assessment's figures follow the events
            figures = (await admin.get(f"{services.urls['assessment']}/v1/figures", params={"year": YEAR})).json()
            if figures["total"]["results"]["finalised"] == 5:
                break
            await asyncio.sleep(0.1)
    assert {c["centre"] for c in figures["by_centre"]} >= {"hau-loc", "nga-son"}
    await sign_in(page, console.url, "quantri.tinh", f"/province?year={YEAR}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Số liệu toàn tỉnh")
    await page.get_by_label("hau-loc", exact=True).check()
    await page.get_by_label("nga-son", exact=True).check()
    await page.get_by_role("button", name="So sánh").click()
    table = page.get_by_role("table", name="So sánh các trung tâm")
    assert await table.locator("thead th").all_inner_texts() == ["Chỉ tiêu", "hau-loc", "nga-son"]
    by_centre = {c["centre"]: c for c in figures["by_centre"]}
    places = [str(by_centre[c]["places"]) for c in ("hau-loc", "nga-son")]
    assert await table.get_by_role("row", name=re.compile("^Lượt học viên")).locator("td").all_inner_texts() == places
    await expect(table.get_by_role("row", name=re.compile("^Tỷ lệ đạt"))).to_contain_text("100,0%")
    attendance = table.get_by_role("row", name=re.compile("^Tỷ lệ chuyên cần")).locator("td")
    assert await attendance.all_inner_texts() == ["100,0%", "75,0%"]
    charts = page.locator("svg.chart[role=img]")
    await expect(charts).to_have_count(6)
    described = await page.locator("#places-d").text_content()  # the chart's text alternative
    assert described == f"hau-loc: {places[0]}; nga-son: {places[1]}"
    await screenshot("1-compare")

    await page.get_by_role("link", name="Số liệu của trung tâm nga-son").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Số liệu của trung tâm nga-son")
    await expect(page.get_by_role("row", name=re.compile("Đảng ủy xã Hoa Lộc"))).to_contain_text("1")
    await screenshot("2-centre")

    await page.goto(f"{console.url}/province?year={YEAR}")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Báo cáo năm dạng Excel (XLSX)").click()
    book = (await (await download_info.value).path()).read_bytes()
    rows = {r["Mã trung tâm"]: r for r in xlsx_rows(book, "Theo trung tâm")}
    assert {c: rows[c]["Lượt học viên"] for c in ("hau-loc", "nga-son")} == {
        c: by_centre[c]["places"] for c in ("hau-loc", "nga-son")}


async def test_the_qr_code_of_a_certificate_leads_to_the_public_page_genuine_or_revoked(
        console, page: Page, screenshot, finished, services, issuer):
    papers = f"{services.urls['assessment']}/v1/centres/hau-loc/classes/{finished.class_ids['hau-loc']}" \
             "/certificate-papers"
    async with httpx.AsyncClient(timeout=60, headers=issuer.headers("centre-staff", centre="hau-loc")) as staff:
        genuine = finished.certificates["Nguyễn Thị Hoà"]
        revoked = finished.certificates["Lê Văn Tâm"]
        found = {}
        for who, cert in (("genuine", genuine), ("revoked", revoked)):
            r = await staff.get(papers, params={"number": cert["certificate_number"]})
            assert r.status_code == 200, r.text
            [png] = render_pages(r.content, f"portal-certificate-{who}")
            [found[who]] = qr_codes(png)  # what a phone's camera reads
    assert found["genuine"] == f"{console.url}/verify/{genuine['verification_code']}"

    await page.goto(found["genuine"])  # no sign-in
    await expect(page.get_by_role("heading", level=2, name="Giấy chứng nhận hợp lệ")).to_be_visible()
    await expect(page.locator("dl.summary")).to_contain_text("Nguyễn Thị Hoà")
    await expect(page.locator("dl.summary")).to_contain_text(genuine["certificate_number"])
    shown = await page.locator("main").inner_text()
    assert "1991" not in shown and "03/02" not in shown and "Hoa Lộc" not in shown  # no more than the certificate
    await screenshot("1-genuine")

    await page.goto(found["revoked"])
    await expect(page.get_by_role("heading", level=2, name="Giấy chứng nhận đã bị thu hồi")).to_be_visible()
    await expect(page.locator("main")).not_to_contain_text("Lê Văn Tâm")  # a revoked one names nobody
    await screenshot("2-revoked")

    await page.get_by_label("Mã xác minh").fill("0000-0000-0000-0000")
    await page.get_by_role("button", name="Xác minh").click()
    await expect(page.get_by_role("heading", level=2, name="Không có giấy chứng nhận nào mang mã này")).to_be_visible()
    await screenshot("3-unknown")
