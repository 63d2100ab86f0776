"""The rest of a centre's year in a real browser: a class opened with its capacity policy, the dispatch decisions
on its roster and its seats changed (a refusal below the seats taken first); the course evaluation with a learner's
form entered and the lessons-learned review; the lecturers' teaching hours per month with their download; and a
learner's record opened from the roster. Screenshots: test-artifacts/console/."""
from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from playwright.async_api import Page, expect

from tests.e2e.console.test_staff_journey import sign_in
from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e
ORG = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}
DECISION = {"number": "125-QĐ/ĐU", "signed_on": "2027-02-15", "signer": "Ban Thường vụ Đảng ủy xã Hoa Lộc"}
CENTRE = "hau-loc"


async def _enrol(services, http, class_id: str, names: list[str], decision: dict | None = None,
                 profile: dict | None = None) -> dict[str, str]:
    roster = f"{services.urls['enrolment']}/v1/centres/{CENTRE}/classes/{class_id}/enrolments"
    await _until_known(lambda: http.get(roster))
    ids = {}
    for name in names:
        r = await http.post(roster, json={"full_name": name, "date_of_birth": "1988-04-12", "sending_organisation": ORG,
                                          **({"dispatch_decision": decision} if decision else {}), **(profile or {})})
        assert r.status_code in (201, 202), r.text
        ids[name] = r.json()["learner_id"]
    return ids


async def _eventually(call, ok: tuple[int, ...] = (200, 201)):
    """Assessment hears of classes, sessions and learners from the other services' events: retry until it has."""
    for _ in range(200):
        response = await call()
        if response.status_code in ok:
            return response
        await asyncio.sleep(0.05)
    return response


async def _class_with_a_session(services, http, title: str, day: str = "2027-03-02", kind: str = "collaborator",
                                starts_on: str = "2027-03-01", ends_on: str = "2027-03-10") -> dict:
    root, tag = services.urls["scheduling"], uuid.uuid4().hex[:6]
    r = await http.post(f"{root}/v1/centres/{CENTRE}/classes", json={
        "programme_type": "chuyen_de", "title": f"{title} {tag}", "capacity": 40, "starts_on": starts_on,
        "ends_on": ends_on, "venue": "Hội trường Trung tâm"})
    assert r.status_code == 201, r.text
    class_id = r.json()["class_id"]
    lecturer_name = f"Đỗ Thị Giảng {tag.upper()}"
    belongs = {"home_centre": CENTRE} if kind in ("in_house", "part_time") else {}  # the centre they belong to
    r = await http.post(f"{root}/v1/lecturers", json={"full_name": lecturer_name, "kind": kind, **belongs})
    assert r.status_code == 201, r.text
    lecturer = r.json()["lecturer_id"]
    r = await http.post(f"{root}/v1/centres/{CENTRE}/venues", json={"name": f"Phòng {tag}", "seats": 60})
    assert r.status_code == 201, r.text
    r = await http.post(f"{root}/v1/centres/{CENTRE}/classes/{class_id}/sessions", json={
        "session_date": day, "starts_at": "07:30", "ends_at": "11:00", "topic": "Học tập nghị quyết",
        "lecturer_id": lecturer, "venue_id": r.json()["venue_id"]})
    assert r.status_code == 201, r.text
    return {"class_id": class_id, "title": f"{title} {tag}", "lecturer_id": lecturer, "lecturer_name": lecturer_name,
            "session_id": r.json()["session_id"]}


async def test_staff_open_a_class_that_refuses_when_full_see_dispatch_decisions_and_change_its_seats(
        console, page: Page, screenshot, services, http, organisations):
    await organisations({ORG["code"]: ORG["name"]})
    await sign_in(page, console.url)
    title = f"Lớp nghiệp vụ công tác đoàn thể {uuid.uuid4().hex[:6]}"
    await page.goto(f"{console.url}/classes/new")
    await page.get_by_label("Chương trình").select_option("nghiep_vu")
    for label, value in (("Tên lớp", title), ("Số chỗ", "2"), ("Ngày khai giảng", "05/04/2027"),
                         ("Ngày bế giảng", "09/04/2027"), ("Địa điểm", "Hội trường Trung tâm")):
        await page.get_by_label(label).fill(value)
    await page.get_by_label("Từ chối ghi danh khi lớp đã hết chỗ").check()
    await page.get_by_label("Mở tuyển sinh ngay").check()
    await screenshot("1-open-form")
    await page.get_by_role("button", name="Lưu lớp").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    class_id = page.url.rsplit("/", 1)[-1]
    await _enrol(services, http, class_id, ["Lê Văn Bình", "Phạm Thị Hoa"], DECISION)

    await page.reload()
    summary = page.locator("dl.summary")
    await expect(summary).to_contain_text("Từ chối ghi danh khi lớp đã hết chỗ")
    await expect(summary).to_contain_text("2 chỗ, 2 đã có học viên, 0 chờ chỗ")
    decisions = await page.locator("table[aria-labelledby=roster] tbody tr td:nth-child(5)").all_inner_texts()
    assert decisions == ["Số 125-QĐ/ĐU ngày 15/02/2027, Ban Thường vụ Đảng ủy xã Hoa Lộc"] * 2
    await screenshot("2-class")

    await page.get_by_role("link", name="Sửa số chỗ học").click()
    await page.get_by_label("Số chỗ", exact=True).fill("1")
    await page.get_by_role("button", name="Sửa số chỗ").click()
    refusal = page.get_by_role("alert").get_by_role("link")
    await expect(refusal).to_contain_text("đã có 2 học viên nên không thể giảm số chỗ xuống 1")
    await expect(refusal).to_have_attribute("href", "#capacity")
    await expect(page.locator("#capacity-error")).to_contain_text("không thể giảm số chỗ")
    await expect(page.get_by_label("Số chỗ", exact=True)).to_have_value("1")  # what was typed is kept
    await screenshot("3-refused")
    await refusal.click()
    await expect(page.get_by_label("Số chỗ", exact=True)).to_be_focused()
    await page.keyboard.press("Control+A")
    await page.keyboard.type("4")
    await page.keyboard.press("Enter")  # the keyboard alone sends the form
    await expect(page.get_by_role("status")).to_have_text("Lớp nay có 4 chỗ học.")
    await expect(summary).to_contain_text("4 chỗ, 2 đã có học viên, 0 chờ chỗ")
    await expect(page.get_by_role("heading", name=re.compile("Học viên"))).to_contain_text("2 / 4")
    await screenshot("4-changed")
    seats = await http.get(f"{services.urls['enrolment']}/v1/centres/{CENTRE}/classes/{class_id}/capacity")
    assert (seats.json()["capacity"], seats.json()["when_full"]) == (4, "refuse")

    # the decision leads to every learner it sent, in whichever of the centre's classes
    await page.get_by_role("link", name="Số 125-QĐ/ĐU ngày 15/02/2027").first.click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Quyết định cử đi học")
    await expect(page.get_by_label("Số quyết định")).to_have_value("125-QĐ/ĐU")
    sent = page.locator("table tbody tr", has_text=title)
    await expect(sent.locator("td:first-child")).to_have_text(["Lê Văn Bình", "Phạm Thị Hoa"])
    await expect(sent.locator("td:last-child")).to_have_text(["1", "2"])
    await screenshot("5-decision")
    await page.get_by_label("Mã đơn vị cử đi học").fill("Xã Hoa Lộc")
    await page.get_by_role("button", name="Lọc").click()
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#organisation")
    await expect(page.get_by_label("Mã đơn vị cử đi học")).to_have_value("Xã Hoa Lộc")


async def test_a_waiting_learner_s_dispatch_decision_shows_and_more_seats_promote_the_waiting(
        console, page: Page, screenshot, services, http, organisations):
    await organisations({ORG["code"]: ORG["name"]})
    r = await http.post(f"{services.urls['scheduling']}/v1/centres/{CENTRE}/classes", json={
        "programme_type": "ky_nang", "title": f"Kỹ năng giao tiếp {uuid.uuid4().hex[:6]}", "capacity": 1,
        "starts_on": "2027-06-01", "ends_on": "2027-06-03", "venue": "Hội trường Trung tâm"})
    assert r.status_code == 201, r.text
    class_id = r.json()["class_id"]
    await _enrol(services, http, class_id, ["Lê Văn Bình"])
    await _enrol(services, http, class_id, ["Vũ Thị Dung"], {**DECISION, "number": "7-QĐ/ĐU"})
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{class_id}")
    await expect(page.locator("dl.summary")).to_contain_text("Học viên đến sau được đưa vào danh sách chờ")
    await expect(page.locator("table[aria-labelledby=roster] tbody tr td:nth-child(5)")).to_have_text("chưa có")
    await expect(page.locator("table[aria-labelledby=waiting] tbody tr td:nth-child(5)")).to_have_text(
        "Số 7-QĐ/ĐU ngày 15/02/2027, Ban Thường vụ Đảng ủy xã Hoa Lộc")
    await screenshot("1-waiting")
    await page.get_by_role("link", name="Sửa số chỗ học").click()
    await page.get_by_label("Số chỗ", exact=True).fill("2")
    await page.get_by_role("button", name="Sửa số chỗ").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Lớp nay có 2 chỗ học. 1 học viên được chuyển từ danh sách chờ vào lớp.")
    names = await page.locator("table[aria-labelledby=roster] tbody tr td:nth-child(2)").all_inner_texts()
    assert names == ["Lê Văn Bình", "Vũ Thị Dung"]
    await expect(page.locator("table[aria-labelledby=waiting]")).to_have_count(0)


async def test_the_roster_shows_who_may_no_longer_sit_the_final_test_and_who_is_back_after_a_new_plan(
        console, page: Page, screenshot, services, http, organisations):
    await organisations({ORG["code"]: ORG["name"]})
    taught = await _class_with_a_session(services, http, "Chuyên đề công tác dân vận")  # 4 sessions planned
    ids = await _enrol(services, http, taught["class_id"], ["Lê Văn Bình", "Phạm Thị Hoa"])
    sheet = (f"{services.urls['assessment']}/v1/centres/{CENTRE}/classes/{taught['class_id']}/sessions/"
             f"{taught['session_id']}/attendance")

    async def mark(binh: str) -> None:
        marks = [{"learner_id": ids["Lê Văn Bình"], "status": binh},
                 {"learner_id": ids["Phạm Thị Hoa"], "status": "present"}]
        r = await _eventually(lambda: http.put(sheet, json={"marks": marks}))
        assert r.status_code == 200, r.text

    await mark("absent")  # one absence of 4 sessions: more than the 20% allowed
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{taught['class_id']}")
    rows = page.locator("table[aria-labelledby=roster] tbody tr")
    await expect(rows.filter(has_text="Lê Văn Bình").locator("td").nth(6)).to_have_text(
        re.compile(r"^Có mặt 0/4 buổi\s*Không được dự kiểm tra cuối khóa\s*$"))
    await expect(rows.filter(has_text="Phạm Thị Hoa").locator("td").nth(6)).to_have_text("Có mặt 1/4 buổi")
    await screenshot("1-lost")

    # the centre decides on five sessions: one absence is no longer more than 20%
    await page.get_by_role("link", name="Sửa kế hoạch").click()
    await page.get_by_label("Số buổi dự kiến").fill("0")
    await page.get_by_role("button", name="Sửa kế hoạch").click()  # no session, and no reason either
    refusals = page.get_by_role("alert").get_by_role("link")
    await expect(refusals.first).to_have_attribute("href", "#planned_sessions")
    await expect(refusals.nth(1)).to_have_attribute("href", "#reason")
    await screenshot("2-plan-refused")
    await page.get_by_label("Số buổi dự kiến").fill("5")
    await page.get_by_label("Lý do").fill("Quyết định số 12/QĐ-TTCT ngày 02/03/2027")
    await page.get_by_role("button", name="Sửa kế hoạch").click()
    await expect(page.get_by_role("status")).to_have_text("Lớp nay có kế hoạch 5 buổi học.")
    binh = rows.filter(has_text="Lê Văn Bình").locator("td").nth(6)
    for _ in range(100):  # assessment checks eligibility again when it hears of the new plan
        if await binh.inner_text() == "Có mặt 0/5 buổi":
            break
        await asyncio.sleep(0.1)
        await page.reload()
    await expect(binh).to_have_text("Có mặt 0/5 buổi")
    await mark("present")  # and the sheet was wrong after all: he was there
    await page.reload()
    await expect(binh).to_have_text("Có mặt 1/5 buổi")


async def test_staff_read_a_class_s_evaluation_enter_a_learner_s_form_and_record_the_lessons_learned_review(
        console, page: Page, screenshot, services, http, organisations):
    await organisations({ORG["code"]: ORG["name"]})
    taught = await _class_with_a_session(services, http, "Chuyên đề học tập nghị quyết")
    await _enrol(services, http, taught["class_id"], ["Lê Văn Bình", "Phạm Thị Hoa", "Ngô Văn Khánh"])
    forms = f"{services.urls['assessment']}/v1/centres/{CENTRE}/classes/{taught['class_id']}/evaluations"
    r = await _eventually(lambda: http.post(forms, json={
        "content": 5, "organisation": 3, "lecturers": [{"lecturer_id": taught["lecturer_id"], "rating": 5}],
        "comment": "Chuyên đề thiết thực.\nCần thêm thời gian thảo luận."}))
    assert r.status_code == 201, r.text

    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{taught['class_id']}")
    await page.get_by_role("link", name="Đánh giá khóa học và rút kinh nghiệm").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Đánh giá khóa học")
    await expect(page.locator("main")).to_contain_text("Đã nhập 1 phiếu khảo sát")
    await page.get_by_role("link", name="Nhập phiếu khảo sát của học viên").click()
    await page.get_by_role("group", name="Nội dung chương trình").get_by_label("4", exact=True).check()
    await page.get_by_role("group", name=f"Giảng viên {taught['lecturer_name']}").get_by_label("4", exact=True).check()
    await page.get_by_label("Ý kiến của học viên").fill("Giảng viên nhiệt tình.")
    await screenshot("1-form")
    await page.get_by_role("button", name="Lưu phiếu").click()
    await expect(page.get_by_role("status")).to_have_text("Đã nhập phiếu. Đồng chí nhập phiếu tiếp theo ở dưới.")
    await page.get_by_role("button", name="Lưu phiếu").click()  # a form with no answer at all
    await expect(page.get_by_role("alert")).to_contain_text("Phiếu không có câu trả lời nào")
    await screenshot("2-empty-form-refused")

    await page.get_by_role("link", name="Quay lại đánh giá khóa học").click()
    results = page.locator("table[aria-labelledby=results] tbody tr")
    await expect(results.nth(0)).to_contain_text("4.5 / 5 (2 lượt trả lời)")  # content: 5 and 4
    await expect(results.nth(1)).to_contain_text("3.0 / 5 (1 lượt trả lời)")  # organisation: only the first
    await expect(results.nth(2)).to_contain_text(f"Giảng viên {taught['lecturer_name']}")
    await expect(results.nth(2)).to_contain_text("4.5 / 5 (2 lượt trả lời)")
    await expect(page.locator("ul.remarks li")).to_have_text(
        ["Chuyên đề thiết thực.\nCần thêm thời gian thảo luận.", "Giảng viên nhiệt tình."])

    await page.get_by_label("Mặt làm được").fill("Học viên chuyên cần, tích cực phát biểu")
    await page.get_by_role("button", name="Lưu rút kinh nghiệm").click()  # the lessons left out
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#lessons")
    await expect(page.get_by_label("Mặt làm được")).to_have_value("Học viên chuyên cần, tích cực phát biểu")
    await screenshot("3-review-refused")
    await page.get_by_label("Bài học kinh nghiệm").fill("Bố trí thêm buổi thảo luận nhóm")
    await page.get_by_role("button", name="Lưu rút kinh nghiệm").click()
    await expect(page.get_by_role("status")).to_have_text("Đã ghi nhận nội dung rút kinh nghiệm.")
    review = page.locator("dl.summary")
    await expect(review).to_contain_text("Bố trí thêm buổi thảo luận nhóm")
    await expect(review).to_contain_text(re.compile(r"\d{2}/\d{2}/\d{4}"))
    await screenshot("4-reviewed")
    summary = (await http.get(forms.removesuffix("s"))).json()
    assert summary["forms"] == 2 and summary["review"]["lessons"] == "Bố trí thêm buổi thảo luận nhóm"

    # the year's evaluations, from the home page: the class among them, the lecturer by name
    await page.goto(f"{console.url}/?year=2027")
    await page.get_by_role("link", name="Đánh giá khóa học năm 2027").click()
    line = page.locator("table[aria-labelledby=by-class] tbody tr", has_text=taught["title"])
    await expect(line.locator("td")).to_have_text(["2", "4.5", "3.0", "4.5", "Đã ghi"])
    lecturer = page.locator("table[aria-labelledby=by-lecturer] tbody tr", has_text=taught["lecturer_name"])
    await expect(lecturer.locator("td")).to_have_text(["1", "2", "4.5"])
    await screenshot("5-year")
    await line.get_by_role("link").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(taught["title"])


async def test_staff_issue_evaluation_codes_refused_beyond_the_learners_then_shown_once_to_print(
        console, page: Page, screenshot, services, http, organisations):
    await organisations({ORG["code"]: ORG["name"]})
    taught = await _class_with_a_session(services, http, "Chuyên đề phát mã khảo sát")
    await _enrol(services, http, taught["class_id"], ["Lê Văn Bình", "Phạm Thị Hoa"])
    standings = f"{services.urls['assessment']}/v1/centres/{CENTRE}/classes/{taught['class_id']}/attendance"
    for _ in range(200):  # assessment hears of the seats from enrolment's stream
        if len((await http.get(standings)).json()) == 2:
            break
        await asyncio.sleep(0.05)
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{taught['class_id']}/evaluation")
    await page.get_by_label("Số mã").fill("3")  # more than the two learners
    await page.get_by_role("button", name="Phát mã").click()
    refusal = page.get_by_role("alert").get_by_role("link")
    await expect(refusal).to_have_attribute("href", "#count")
    await expect(page.get_by_label("Số mã")).to_have_value("3")
    await screenshot("1-refused")
    await page.get_by_label("Số mã").fill("")
    await page.get_by_role("button", name="Phát mã").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Mã phiếu khảo sát")
    codes = [c.strip() for c in await page.locator(".slips .code").all_inner_texts()]
    assert len(codes) == 2 and all(re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", c) for c in codes), codes
    await screenshot("2-codes")

    await expect(page.locator(".slips li").first).to_contain_text(f"{console.url}/evaluate")

    # a learner fills in their own form with a slip, in the console without signing in (another browser's cookies)
    await page.context.clear_cookies()
    await page.goto(f"{console.url}/evaluate")
    await page.get_by_label("Mã trên phiếu của bạn").fill("ABCDE-FGHJK")  # a code nobody was given
    await page.get_by_role("button", name="Mở phiếu").click()
    await expect(page.locator("#code-error")).to_contain_text("Mã phiếu khảo sát không đúng")
    await screenshot("3-code-unknown")
    await page.get_by_label("Mã trên phiếu của bạn").fill(codes[0].lower().replace("-", " "))
    await page.get_by_role("button", name="Mở phiếu").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Chuyên đề phát mã khảo sát")
    await screenshot("4-learner-form")
    await page.get_by_role("button", name="Gửi phiếu").click()  # nothing answered: refused, the code kept
    await expect(page.get_by_role("alert")).to_contain_text("ít nhất một mức đánh giá")
    await page.get_by_role("group", name="Nội dung chương trình").get_by_label("5").check()
    await page.get_by_role("group", name=re.compile("Giảng viên")).get_by_label("4").check()
    await page.get_by_label("Ý kiến của bạn (không bắt buộc)").fill("Tự điền trên trang")
    await page.get_by_role("button", name="Gửi phiếu").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Cảm ơn bạn")
    await screenshot("5-thanks")
    await page.goto(f"{console.url}/evaluate/{codes[0]}")  # the same slip again: used once, and said so
    await expect(page.locator("#code-error")).to_contain_text("đã được dùng")

    # the centre's page counts the learner's form
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{taught['class_id']}/evaluation")
    await expect(page.locator("main")).to_contain_text("Đã nhập 1 phiếu khảo sát")
    await expect(page.locator("ul.remarks")).to_contain_text("Tự điền trên trang")


async def test_staff_see_lecturers_teaching_hours_for_a_month_by_kind_and_download_them(
        console, page: Page, screenshot, services, http):
    held = await _class_with_a_session(services, http, "Lớp bồi dưỡng kiến thức quốc phòng", day="2025-11-04",
                                       kind="part_time", starts_on="2025-11-03", ends_on="2025-11-07")
    await sign_in(page, console.url)
    await page.get_by_role("link", name="Giờ giảng").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Giờ giảng của giảng viên")
    await page.get_by_label("Tháng", exact=True).select_option("11")
    await page.get_by_label("Năm").fill("20x5")
    await page.get_by_role("button", name="Xem").click()
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#year")
    await expect(page.get_by_label("Năm")).to_have_value("20x5")
    await screenshot("1-year-refused")
    await page.get_by_label("Năm").fill("2025")
    await page.get_by_role("button", name="Xem").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Tháng 11/2025")
    row = page.locator("table[aria-labelledby=by-lecturer] tbody tr", has_text=held["lecturer_name"])
    await expect(row.locator("td")).to_have_text(["Giảng viên kiêm chức", "1", "3.5", "4.7"])
    await expect(page.locator("table[aria-labelledby=by-kind] tbody")).to_contain_text("Giảng viên kiêm chức")
    await expect(page.locator("table[aria-labelledby=by-kind] tfoot")).to_contain_text("Tổng cộng")
    await screenshot("2-month")

    async with page.expect_download() as pending:
        await page.get_by_role("link", name="Bảng tính Excel (XLSX)").click()
    download = await pending.value
    assert download.suggested_filename.endswith(".xlsx")
    assert (await asyncio.to_thread((await download.path()).read_bytes))[:2] == b"PK"  # a zip: the workbook
    async with page.expect_download() as pending:
        await page.get_by_role("link", name="Bảng dữ liệu CSV").click()
    table = (await asyncio.to_thread((await (await pending.value).path()).read_bytes)).decode("utf-8-sig")
    assert held["lecturer_name"] in table

    await page.goto(f"{console.url}/lecturer-hours?year=2025&month=11&lang=en")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Lecturers' teaching hours")
    await expect(row.locator("td").first).to_have_text("Part-time lecturers")
    await screenshot("3-month-en")
    await page.goto(f"{console.url}/lecturer-hours?lang=vi")


async def test_staff_open_a_learner_s_record_from_the_roster_with_its_grade_and_certificate(
        console, page: Page, screenshot, services, http, organisations):
    await organisations({ORG["code"]: ORG["name"]})
    taught = await _class_with_a_session(services, http, "Chuyên đề cho cán bộ chủ chốt xã")
    profile = {"gender": "female", "position": "Phó Bí thư Đảng ủy xã", "party_admitted_on": "2012-05-19",
               "party_card_number": "42098761"}
    learner = (await _enrol(services, http, taught["class_id"], ["Đặng Thị Hồng Nhung"], DECISION, profile))[
        "Đặng Thị Hồng Nhung"]
    base = f"{services.urls['assessment']}/v1/centres/{CENTRE}/classes/{taught['class_id']}"
    r = await _until_known(lambda: http.post(f"{base}/scores", json={"learner_id": learner, "score": 8.5}))
    assert r.status_code == 201, r.text
    r = await http.post(f"{base}/conduct", json={"learner_id": learner, "rating": "tot"})
    assert r.status_code == 200, r.text
    r = await http.post(f"{base}/finalisation")
    assert r.status_code == 201, r.text
    certificate = r.json()["results"][0]["certificate_number"]
    await _eventually(lambda: http.get(f"{services.urls['assessment']}/v1/learners/{learner}/record"))

    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{taught['class_id']}")
    await page.get_by_role("link", name="Đặng Thị Hồng Nhung", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Đặng Thị Hồng Nhung")
    await expect(page.locator("dl.summary").first).to_contain_text(re.compile(r"Số chương trình đã hoàn thành\s*1"))
    learner_fields = page.locator("dl[aria-labelledby=profile]")
    for shown in ("Giới tính", "Nữ", "Phó Bí thư Đảng ủy xã", "Ngày vào Đảng", "19/05/2012", "42098761"):
        await expect(learner_fields).to_contain_text(shown)
    line = page.locator("table[aria-labelledby=classes] tbody tr", has_text=taught["title"])
    await expect(line).to_contain_text("01/03/2027 – 10/03/2027")
    await expect(line).to_contain_text("8.5 (Giỏi) – Đạt")
    await expect(line).to_contain_text("Rèn luyện tốt")
    await expect(line).to_contain_text(certificate)
    await expect(line).to_contain_text("Đảng ủy xã Hoa Lộc")
    await expect(line).to_contain_text("Trung tâm Chính trị huyện Hậu Lộc")  # the centre by its name
    await screenshot("1-record")
    async with page.expect_download() as pending:
        await page.get_by_role("link", name="Bản in (PDF)").click()
    download = await pending.value
    assert download.suggested_filename.endswith(".pdf")
    assert (await asyncio.to_thread((await download.path()).read_bytes))[:5] == b"%PDF-"


async def test_the_year_s_pages_read_and_submit_with_javascript_switched_off(console, browser, services, http,
                                                                           organisations):
    await organisations({ORG["code"]: ORG["name"]})
    taught = await _class_with_a_session(services, http, "Chuyên đề không dùng JavaScript")
    await _enrol(services, http, taught["class_id"], ["Lê Văn Bình"])
    context = await browser.new_context(locale="vi-VN", java_script_enabled=False)
    try:
        page = await context.new_page()
        await sign_in(page, console.url)
        await page.goto(f"{console.url}/classes/{taught['class_id']}/capacity")
        await page.get_by_label("Số chỗ", exact=True).fill("0")
        await page.get_by_role("button", name="Sửa số chỗ").click()
        await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#capacity")
        await page.goto(f"{console.url}/lecturer-hours?year=2027")
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Năm 2027")
        await page.goto(f"{console.url}/classes/{taught['class_id']}/evaluation")
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Đánh giá khóa học")
    finally:
        await context.close()
