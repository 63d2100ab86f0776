"""Recording a class's teaching in a real browser: the demo lecturer of `make run` (giangvien.hauloc), whose token
names them in the province's register, records the attendance of the session they teach and is refused a session
another lecturer teaches; a centre's staff member enters the whole class's scores on one grid, one refused and put
right. Screenshots: test-artifacts/console/."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from playwright.async_api import Page, expect

from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e
ORG = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}
LEARNERS = ["Đỗ Văn Hải", "Cao Thị Mai"]


async def _until(call, done, attempts: int = 200) -> None:
    """Assessment hears of a class's learners and sessions from the others' events, a moment later."""
    for _ in range(attempts):
        r = await call()
        if r.status_code == 200 and done(r):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not known to assessment: {r.status_code} {r.text[:300]}")


async def _class_with_session(services, http, lecturer_id: str, day: str) -> dict:
    """A class of Hậu Lộc with two learners and one session taught by `lecturer_id`, once assessment knows them."""
    scheduling, tag = services.urls["scheduling"], uuid.uuid4().hex[:6]
    r = await http.post(f"{scheduling}/v1/centres/hau-loc/classes", json={
        "programme_type": "dang_vien_moi", "title": f"Lớp đảng viên mới – giảng viên {tag}", "capacity": 30,
        "starts_on": day, "ends_on": day, "venue": "Hội trường Trung tâm"})
    assert r.status_code == 201, r.text
    base = f"/v1/centres/hau-loc/classes/{r.json()['class_id']}"
    roster = f"{services.urls['enrolment']}{base}/enrolments"
    await _until_known(lambda: http.get(roster))
    for name in LEARNERS:
        r = await http.post(roster, json={"full_name": name, "date_of_birth": "1988-02-11", "sending_organisation": ORG})
        assert r.status_code == 201, r.text
    r = await http.post(f"{scheduling}/v1/centres/hau-loc/venues", json={"name": f"Phòng {tag}", "seats": 40})
    assert r.status_code == 201, r.text
    r = await http.post(f"{scheduling}{base}/sessions", json={
        "session_date": day, "starts_at": "07:30", "ends_at": "11:00", "topic": "Nghị quyết mới",
        "lecturer_id": lecturer_id, "venue_id": r.json()["venue_id"]})
    assert r.status_code == 201, r.text
    session = r.json()["session_id"]
    await _until(lambda: http.get(f"{services.urls['assessment']}{base}/sessions/{session}/attendance-sheet",
                                  params={"format": "csv"}), lambda r: all(name in r.text for name in LEARNERS))
    return {"class": base.removeprefix("/v1/centres/hau-loc"),
            "path": f"{base.removeprefix('/v1/centres/hau-loc')}/sessions/{session}/attendance",
            "attendance": f"{services.urls['assessment']}{base}/sessions/{session}/attendance"}


async def sign_in(page: Page, url: str, username: str) -> None:
    await page.goto(url)
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill("demo")
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_url(url)


async def test_the_demo_lecturer_records_attendance_for_their_session_and_is_refused_another_s(
        console, page: Page, screenshot, services, http, organisations):
    await organisations({ORG["code"]: ORG["name"]})
    own = await _class_with_session(services, http, console.lecturer_ids["giangvien.hauloc"], "2027-05-04")
    r = await http.post(f"{services.urls['scheduling']}/v1/lecturers", json={"full_name": "Trịnh Văn Khác",
                                                                            "kind": "collaborator"})
    others = await _class_with_session(services, http, r.json()["lecturer_id"], "2027-05-05")

    await sign_in(page, f"{console.url}{own['path']}", "giangvien.hauloc")
    await page.get_by_label(f"{LEARNERS[0]}: Có mặt").check()
    await page.get_by_label(f"{LEARNERS[1]}: Vắng có phép").check()
    await page.get_by_role("button", name="Lưu điểm danh").click()
    await expect(page.get_by_role("status")).to_have_text("Đã lưu điểm danh.")
    await expect(page.get_by_label(f"{LEARNERS[1]}: Vắng có phép")).to_be_checked()
    await screenshot("1-own-session")
    marks = (await http.get(own["attendance"])).json()
    assert sorted(m["status"] for m in marks) == ["excused", "present"]

    await page.goto(f"{console.url}{others['path']}")
    await page.get_by_label(f"{LEARNERS[0]}: Có mặt").check()
    await page.get_by_label(f"{LEARNERS[1]}: Có mặt").check()
    await page.get_by_role("button", name="Lưu điểm danh").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đã có lỗi")
    await expect(page.locator("main")).to_contain_text("giảng viên chỉ ghi nhận cho buổi học, lớp học của mình")
    await screenshot("2-another-s-session")
    assert (await http.get(others["attendance"])).json() == []


async def test_staff_enter_the_whole_class_s_scores_on_one_grid_one_refused_then_put_right(
        console, page: Page, screenshot, services, http, organisations):
    await organisations({ORG["code"]: ORG["name"]})
    lecturer = await http.post(f"{services.urls['scheduling']}/v1/lecturers", json={"full_name": "Hồ Văn Điểm",
                                                                                   "kind": "collaborator"})
    the_class = await _class_with_session(services, http, lecturer.json()["lecturer_id"], "2027-05-06")
    grid = f"{console.url}{the_class['class']}/scores"
    await sign_in(page, grid, "canbo.hauloc")
    names = await page.locator("table.sheet tbody th").all_inner_texts()
    assert names == ["Đỗ Văn Hải", "Cao Thị Mai"]  # Vietnamese order: by given name
    await page.get_by_label("Điểm của Đỗ Văn Hải").fill("8,5")  # as scores are written here
    await page.get_by_label("Điểm của Cao Thị Mai").fill("11")
    await page.get_by_role("button", name="Lưu điểm").click()
    summary = page.get_by_role("alert")
    await expect(summary.get_by_role("link")).to_have_text(
        "Nhập điểm của Cao Thị Mai từ 0 đến 10, tối đa một chữ số thập phân")
    await expect(page.get_by_label("Điểm của Đỗ Văn Hải")).to_have_value("8,5")  # kept as typed; nothing stored yet
    await screenshot("1-scores-refused")
    scores = f"{services.urls['assessment']}/v1/centres/hau-loc{the_class['class']}/scores"
    assert (await http.get(scores)).json() == []

    await page.get_by_label("Điểm của Cao Thị Mai").fill("4")
    await page.get_by_role("button", name="Lưu điểm").click()
    await expect(page.get_by_role("status")).to_have_text("Đã lưu điểm.")
    rows = page.locator("table.sheet tbody tr")
    await expect(rows.nth(0)).to_contain_text("Giỏi")
    await expect(rows.nth(1)).to_contain_text("Không đạt")
    await screenshot("2-scores-saved")
    assert sorted(s["score"] for s in (await http.get(scores)).json()) == [4, 8.5]
