"""A centre's staff member in a real browser: signs in at the identity provider, finds the centre's classes,
opens a class (learners in Vietnamese order), plans a class with a form refused once and then accepted, signs out.
Screenshots: test-artifacts/console/."""
from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from playwright.async_api import Page, expect

from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e
ORG = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}
# enrolled in this order; the roster reads them by given name, then middle and family names, in Vietnamese
# letters (D before Đ), tone marks deciding only ties (Ánh and Anh are one given name: Thị before Văn decides)
LEARNERS = ["Lê Văn Bình", "Hoàng Văn Đông", "Nguyễn Văn Anh", "Phạm Đức An", "Vũ Thị Dung", "Trần Thị Ánh"]
IN_ORDER = ["Phạm Đức An", "Trần Thị Ánh", "Nguyễn Văn Anh", "Lê Văn Bình", "Vũ Thị Dung", "Hoàng Văn Đông"]


@pytest.fixture
async def seeded_class(services, http, organisations):
    """A class of the demo centre with six learners, made through the APIs as any client would."""
    await organisations({ORG["code"]: ORG["name"]})
    title = f"Lớp bồi dưỡng đảng viên mới – kiểm thử {uuid.uuid4().hex[:6]}"
    centre = "hau-loc"
    r = await http.post(f"{services.urls['scheduling']}/v1/centres/{centre}/classes", json={
        "programme_type": "dang_vien_moi", "title": title, "capacity": 40, "starts_on": "2027-03-01",
        "ends_on": "2027-03-10", "venue": "Hội trường Trung tâm"})
    assert r.status_code == 201, r.text
    class_id = r.json()["class_id"]
    roster = f"{services.urls['enrolment']}/v1/centres/{centre}/classes/{class_id}/enrolments"
    await _until_known(lambda: http.get(roster))
    for name in LEARNERS:
        r = await http.post(roster, json={"full_name": name, "date_of_birth": "1990-05-17",
                                          "sending_organisation": ORG})
        assert r.status_code == 201, r.text
    return {"class_id": class_id, "title": title}


@pytest.fixture
async def scheduled_session(services, http, seeded_class):
    """A session of the seeded class, once assessment knows of it and of the six learners."""
    root, tag = services.urls["scheduling"], uuid.uuid4().hex[:6]
    lecturer_name = f"Lê Văn Giảng {tag.upper()}"  # one of the province's many lecturers: told apart by the tag
    r = await http.post(f"{root}/v1/lecturers", json={"full_name": lecturer_name, "kind": "collaborator"})
    assert r.status_code == 201, r.text
    lecturer = r.json()["lecturer_id"]
    r = await http.post(f"{root}/v1/centres/hau-loc/venues", json={"name": f"Phòng học {tag}", "seats": 60})
    assert r.status_code == 201, r.text
    base = f"/v1/centres/hau-loc/classes/{seeded_class['class_id']}"
    r = await http.post(f"{root}{base}/sessions", json={
        "session_date": "2027-03-02", "starts_at": "07:30", "ends_at": "11:00", "topic": "Lịch sử Đảng bộ huyện",
        "lecturer_id": lecturer, "venue_id": r.json()["venue_id"]})
    assert r.status_code == 201, r.text
    session_id = r.json()["session_id"]
    sheet = f"{services.urls['assessment']}{base}/sessions/{session_id}/attendance-sheet"
    for _ in range(200):
        r = await http.get(sheet, params={"format": "csv"})
        if r.status_code == 200 and all(name in r.text for name in LEARNERS):
            break
        await asyncio.sleep(0.05)
    assert r.status_code == 200, r.text
    return {**seeded_class, "session_id": session_id, "lecturer_id": lecturer, "lecturer_name": lecturer_name}


async def sign_in(page: Page, console_url: str, username: str = "canbo.hauloc") -> None:
    await page.goto(f"{console_url}/classes")
    await expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()  # the identity provider's page
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill("demo")
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_url(f"{console_url}/classes")


async def test_staff_sign_in_find_a_class_see_its_learners_plan_a_class_after_one_refusal_and_sign_out(
        console, page: Page, screenshot, seeded_class):
    await sign_in(page, console.url)
    await expect(page.get_by_role("heading", name=re.compile("^Lớp học"))).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "vi")
    cookie = next(c for c in await page.context.cookies() if c["name"] == "ttct_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # http://127.0.0.1: not Secure

    # the table filters by name and sorts by a column
    await page.get_by_label("Tên lớp có chứa").fill(seeded_class["title"][-6:])
    await page.get_by_role("button", name="Lọc").click()
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("01/03/2027 – 10/03/2027")
    await expect(rows.first).to_contain_text("Đang tuyển sinh")
    await page.get_by_role("link", name="Số chỗ").click()
    await expect(page.locator('th[aria-sort="ascending"]')).to_contain_text("Số chỗ")
    await screenshot("1-classes")

    await page.get_by_role("link", name=seeded_class["title"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(seeded_class["title"])
    names = await page.locator("table[aria-labelledby=roster] tbody tr td:nth-child(2)").all_inner_texts()
    assert names == IN_ORDER
    await expect(page.get_by_role("heading", name=re.compile("Học viên"))).to_contain_text("6 / 40")
    await screenshot("2-class")

    # a form refused by the service comes back with a summary linking to each field, and what was typed kept
    await page.goto(f"{console.url}/classes/new")
    await page.get_by_label("Chương trình").select_option("so_cap_llct")
    await page.get_by_label("Tên lớp").fill("")
    await page.get_by_label("Số chỗ").fill("0")
    await page.get_by_label("Ngày khai giảng").fill("01/09/2027")
    await page.get_by_label("Ngày bế giảng").fill("30/09/2027")
    await page.get_by_label("Địa điểm").fill("Hội trường Trung tâm")
    await page.get_by_role("button", name="Lưu lớp").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Có lỗi cần sửa")
    await expect(summary.get_by_role("link", name="Nhập tên lớp, tối đa 200 ký tự")).to_have_attribute("href", "#title")
    await expect(summary.get_by_role("link", name=re.compile("Nhập số chỗ học"))).to_have_attribute("href", "#capacity")
    assert await page.title() == "Lỗi: Lập kế hoạch lớp – Trung tâm Chính trị – Hệ thống quản lý"
    await expect(page.get_by_label("Số chỗ")).to_have_value("0")
    await expect(page.get_by_label("Địa điểm")).to_have_value("Hội trường Trung tâm")
    await expect(page.get_by_label("Ngày khai giảng")).to_have_value("01/09/2027")
    await expect(page.get_by_label("Số chỗ")).to_have_attribute("aria-invalid", "true")
    await screenshot("3-plan-refused")
    await summary.get_by_role("link", name=re.compile("Nhập số chỗ học")).click()
    await expect(page.get_by_label("Số chỗ")).to_be_focused()

    title = f"Lớp sơ cấp lý luận chính trị khóa {uuid.uuid4().hex[:4]}"
    await page.get_by_label("Tên lớp").fill(title)
    await page.get_by_label("Số chỗ").fill("45")
    await page.get_by_role("button", name="Lưu lớp").click()
    await expect(page.get_by_role("status")).to_have_text("Đã đưa lớp vào kế hoạch.")
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.locator("dl.summary")).to_contain_text("01/09/2027 – 30/09/2027")
    await expect(page.locator("dl.summary")).to_contain_text("Dự kiến")
    await screenshot("4-planned")

    await page.get_by_role("button", name="Đăng xuất").click()
    await expect(page.get_by_role("heading", name="Đồng chí đã đăng xuất")).to_be_visible()
    await page.goto(f"{console.url}/classes")
    await expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()  # back at the identity provider


async def test_a_form_without_the_session_s_csrf_token_is_refused_and_plans_nothing(console, page: Page, services,
                                                                                    http):
    await sign_in(page, console.url)
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    title = f"Lớp giả mạo {uuid.uuid4().hex[:6]}"
    form = {"programme_type": "so_cap_llct", "title": title, "capacity": "30", "starts_on": "01/09/2027",
            "ends_on": "30/09/2027", "venue": "Hội trường", "status": "planned", "csrf": "not-the-session-s"}
    async with httpx.AsyncClient(cookies=cookies, base_url=console.url) as client:
        r = await client.post("/classes/new", data=form)
    assert r.status_code == 403 and "Biểu mẫu này đã hết hạn" in r.text
    classes = await http.get(f"{services.urls['scheduling']}/v1/centres/hau-loc/classes")
    assert title not in [c["title"] for c in classes.json()]


async def test_staff_record_a_session_s_attendance_on_one_sheet_after_one_learner_was_left_unmarked(
        console, page: Page, screenshot, scheduled_session, services, http):
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{scheduled_session['class_id']}")
    await page.get_by_role("link", name="Điểm danh 02/03/2027").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Điểm danh 02/03/2027, 07:30–11:00")
    names = await page.locator("table.sheet tbody th").all_inner_texts()
    assert names == IN_ORDER
    for name in IN_ORDER[:-1]:  # the last one forgotten
        status = "Vắng có phép" if name == "Lê Văn Bình" else "Có mặt"
        await page.get_by_label(f"{name}: {status}", exact=True).check()
    await page.get_by_label("Vũ Thị Dung: Vắng", exact=True).check()
    await page.get_by_role("button", name="Lưu điểm danh").click()
    summary = page.get_by_role("alert")
    await expect(summary.get_by_role("link")).to_have_text(["Chọn Hoàng Văn Đông có mặt, vắng hay vắng có phép"])
    await expect(page.get_by_label("Lê Văn Bình: Vắng có phép", exact=True)).to_be_checked()  # the choices are kept
    await screenshot("1-unmarked")

    await summary.get_by_role("link").click()
    await expect(page.get_by_label("Hoàng Văn Đông: Có mặt", exact=True)).to_be_focused()
    await page.keyboard.press("Space")  # the keyboard alone marks a learner
    await page.get_by_role("button", name="Lưu điểm danh").click()
    await expect(page.get_by_role("status")).to_have_text("Đã lưu điểm danh.")
    await expect(page.get_by_label("Vũ Thị Dung: Vắng", exact=True)).to_be_checked()  # read back from assessment
    await screenshot("2-recorded")

    base = f"{services.urls['assessment']}/v1/centres/hau-loc/classes/{scheduled_session['class_id']}"
    marks = (await http.get(f"{base}/sessions/{scheduled_session['session_id']}/attendance")).json()
    assert sorted(m["status"] for m in marks) == ["absent", "excused", "present", "present", "present", "present"]


async def test_staff_move_a_class_along_are_told_when_their_page_was_stale_and_cancel_it_with_a_reason(
        console, page: Page, screenshot, services, http):
    base = f"{services.urls['scheduling']}/v1/centres/hau-loc/classes"
    r = await http.post(base, json={"programme_type": "chuyen_de", "title": f"Chuyên đề {uuid.uuid4().hex[:6]}",
                                    "capacity": 30, "starts_on": "2027-05-03", "ends_on": "2027-05-05",
                                    "venue": "Hội trường Trung tâm", "status": "planned"})
    assert r.status_code == 201, r.text
    class_id = r.json()["class_id"]
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{class_id}")
    await expect(page.locator("dl.summary")).to_contain_text("Dự kiến")

    # meanwhile a colleague opens it: the page the person acts on is stale
    assert (await http.post(f"{base}/{class_id}/open")).status_code == 200
    await page.get_by_role("button", name="Mở tuyển sinh").click()
    await expect(page.get_by_role("alert")).to_contain_text("Lớp đã được người khác thay đổi sau khi đồng chí mở trang")
    await expect(page.locator("dl.summary")).to_contain_text("Đang tuyển sinh")  # the page shows it as it is now
    await screenshot("1-stale")

    await page.get_by_role("button", name="Khai giảng").click()
    await expect(page.get_by_role("status")).to_have_text("Lớp đã khai giảng.")
    await page.get_by_role("link", name="Hủy lớp").click()
    await page.get_by_role("button", name="Đồng ý hủy lớp").click()  # no reason given
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_text(
        "Nhập lý do hủy lớp; các đơn vị cử học viên sẽ được thông báo")
    await screenshot("2-cancel-refused")
    await page.get_by_label("Lý do hủy").fill("Trùng lịch Đại hội Đảng bộ huyện")
    await page.get_by_role("button", name="Đồng ý hủy lớp").click()
    await expect(page.get_by_role("status")).to_have_text("Đã hủy lớp.")
    await expect(page.locator("dl.summary")).to_contain_text("Trùng lịch Đại hội Đảng bộ huyện")
    await expect(page.get_by_role("button", name="Khai giảng")).to_have_count(0)
    await screenshot("3-cancelled")
    assert (await http.get(f"{base}/{class_id}")).json()["status"] == "cancelled"


async def test_staff_schedule_a_session_refused_for_a_lecturer_s_clash_named_on_the_page_then_at_another_time(
        console, page: Page, screenshot, scheduled_session, services, http):
    r = await http.post(f"{services.urls['scheduling']}/v1/centres/hau-loc/classes", json={
        "programme_type": "nghiep_vu", "title": f"Lớp nghiệp vụ công tác Đảng {uuid.uuid4().hex[:6]}", "capacity": 40,
        "starts_on": "2027-03-01", "ends_on": "2027-03-05", "venue": "Hội trường Trung tâm"})
    assert r.status_code == 201, r.text
    other_class = r.json()["class_id"]
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{other_class}")
    await page.get_by_role("link", name="Xếp lịch buổi học").click()
    await page.get_by_label("Ngày học").fill("02/03/2027")
    await page.get_by_label("Giờ bắt đầu").fill("08:00")
    await page.get_by_label("Giờ kết thúc").fill("10:00")
    await page.get_by_label("Chuyên đề").fill("Đi thực tế khu di tích Hàm Rồng")
    await page.get_by_label("Giảng viên").select_option(label=scheduled_session["lecturer_name"])
    await page.get_by_label("Nơi đi thực tế").fill("Khu di tích Hàm Rồng")
    await page.get_by_role("button", name="Xếp lịch", exact=True).click()
    clash = f"Giảng viên {scheduled_session['lecturer_name']} đã có lịch giảng trùng giờ: lớp '{scheduled_session['title']}'"
    await expect(page.get_by_role("alert").get_by_role("link")).to_contain_text(clash)
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#lecturer_id")
    await expect(page.locator("#lecturer_id-error")).to_contain_text("02/03/2027")  # the clashing session's day
    await expect(page.get_by_label("Nơi đi thực tế")).to_have_value("Khu di tích Hàm Rồng")
    await screenshot("1-clash")

    await page.get_by_label("Giờ bắt đầu").fill("13:30")
    await page.get_by_label("Giờ kết thúc").fill("16:30")
    await page.get_by_role("button", name="Xếp lịch", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text("Đã xếp lịch buổi học.")
    rows = page.locator("table[aria-labelledby=sessions] tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("02/03/2027")
    await expect(rows.first).to_contain_text("13:30–16:30")
    await expect(rows.first).to_contain_text("Khu di tích Hàm Rồng")
    await screenshot("2-scheduled")


async def test_a_lecturer_sees_the_centre_s_classes_and_may_take_attendance_but_is_offered_no_staff_action(
        console, page: Page, screenshot, scheduled_session):
    await sign_in(page, console.url, "giangvien.hauloc")
    await expect(page.get_by_role("heading", name=re.compile("^Lớp học"))).to_be_visible()
    await expect(page.get_by_role("link", name="Lập kế hoạch lớp")).to_have_count(0)
    await page.goto(f"{console.url}/classes/{scheduled_session['class_id']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(scheduled_session["title"])
    for staff_only in ("Khai giảng", "Hủy lớp", "Xếp lịch buổi học"):
        await expect(page.get_by_text(staff_only, exact=True)).to_have_count(0)
    await expect(page.get_by_role("link", name="Điểm danh 02/03/2027")).to_be_visible()
    await screenshot("1-class")
    # the services decide, not the page: a lecturer who posts the staff's form anyway is refused by scheduling
    await page.goto(f"{console.url}/classes/new")
    await page.get_by_label("Chương trình").select_option("so_cap_llct")
    for label, value in (("Tên lớp", "Lớp tự mở"), ("Số chỗ", "30"), ("Ngày khai giảng", "01/09/2027"),
                         ("Ngày bế giảng", "30/09/2027"), ("Địa điểm", "Hội trường")):
        await page.get_by_label(label).fill(value)
    await page.get_by_role("button", name="Lưu lớp").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đã có lỗi")
    await expect(page.locator("main")).to_contain_text("không có quyền")


async def test_the_console_in_english_keeps_dates_as_dd_mm_yyyy_and_remembers_the_choice(
        console, page: Page, screenshot, seeded_class):
    await sign_in(page, console.url)
    await page.get_by_role("link", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", name=re.compile("^Classes"))).to_be_visible()
    await page.goto(f"{console.url}/classes/{seeded_class['class_id']}")  # remembered without ?lang
    await expect(page.locator("dl.summary")).to_contain_text("Open for enrolment")
    await expect(page.locator("dl.summary")).to_contain_text("01/03/2027 – 10/03/2027")
    await screenshot("1-class-en")
    await page.get_by_role("link", name="Tiếng Việt").click()
    await expect(page.locator("dl.summary")).to_contain_text("Đang tuyển sinh")


def csv_list(rows: list[str]) -> bytes:
    return ("\ufeffHọ và tên,Ngày sinh,Số CCCD\n" + "".join(f"{r}\n" for r in rows)).encode()


async def test_staff_import_a_list_see_a_row_in_error_fix_the_file_check_again_and_confirm(
        console, page: Page, screenshot, seeded_class, tmp_path):
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{seeded_class['class_id']}")
    await page.get_by_role("link", name="Nhập danh sách học viên").click()
    wrong, fixed = tmp_path / "wrong.csv", tmp_path / "fixed.csv"
    wrong.write_bytes(csv_list(["Đặng Thị Thu,12/04/1988,", "Bùi Văn Tài,31/02/1990,", "Ngô Văn Khánh,1985-07-09,"]))
    fixed.write_bytes(csv_list(["Đặng Thị Thu,12/04/1988,", "Bùi Văn Tài,21/02/1990,", "Ngô Văn Khánh,1985-07-09,"]))
    await page.get_by_label("Tệp danh sách").set_input_files(str(wrong))
    await page.get_by_label("Mã đơn vị cử đi học").fill("xa-hoa-loc")
    await page.get_by_label("Tên đơn vị cử đi học").fill("Đảng ủy xã Hoa Lộc")
    await page.get_by_role("button", name="Kiểm tra danh sách").click()
    error_link = page.get_by_role("alert").get_by_role("link")
    await expect(error_link).to_have_count(1)
    await expect(error_link).to_have_attribute("href", "#row-3")
    await expect(error_link).to_contain_text("Dòng 3:")
    await expect(page.locator("tr.row-error")).to_contain_text("Ngày sinh 31/02/1990 không đúng định dạng")
    await expect(page.locator("#row-2")).to_contain_text("Sẽ được ghi danh")
    await expect(page.get_by_role("button", name="Xác nhận nhập danh sách")).to_have_count(0)
    await screenshot("1-preflight-error")

    await page.get_by_label("Tệp danh sách").set_input_files(str(fixed))
    await page.get_by_label("Mã đơn vị cử đi học").fill("xa-hoa-loc")
    await page.get_by_label("Tên đơn vị cử đi học").fill("Đảng ủy xã Hoa Lộc")
    await page.get_by_role("button", name="Kiểm tra danh sách").click()
    await expect(page.get_by_role("alert")).to_have_count(0)
    await expect(page.locator("table.report tbody tr")).to_have_count(3)
    await screenshot("2-preflight-clean")
    await page.get_by_role("button", name="Xác nhận nhập danh sách").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Đã nhập danh sách: 3 học viên được ghi danh, 0 chờ chỗ, 0 đã có từ trước.")
    await expect(page.get_by_role("heading", name=re.compile("Học viên"))).to_contain_text("9 / 40")
    names = await page.locator("table[aria-labelledby=roster] tbody tr td:nth-child(2)").all_inner_texts()
    assert names[:3] == ["Phạm Đức An", "Trần Thị Ánh", "Nguyễn Văn Anh"] and "Ngô Văn Khánh" in names


async def test_staff_see_the_waiting_list_and_quotas_and_withdraw_a_learner_whose_seat_goes_to_the_next_waiting(
        console, page: Page, screenshot, services, http):
    base = f"{services.urls['scheduling']}/v1/centres/hau-loc/classes"
    r = await http.post(base, json={"programme_type": "ky_nang", "title": f"Kỹ năng giao tiếp {uuid.uuid4().hex[:6]}",
                                    "capacity": 2, "starts_on": "2027-06-01", "ends_on": "2027-06-03",
                                    "venue": "Hội trường Trung tâm"})
    assert r.status_code == 201, r.text
    class_id = r.json()["class_id"]
    roster = f"{services.urls['enrolment']}/v1/centres/hau-loc/classes/{class_id}/enrolments"
    await _until_known(lambda: http.get(roster))
    for name in ("Lê Văn Bình", "Phạm Đức An", "Vũ Thị Dung"):  # the third waits: the class has two seats
        r = await http.post(roster, json={"full_name": name, "date_of_birth": "1990-05-17",
                                          "sending_organisation": ORG})
        assert r.status_code in (201, 202), r.text  # 202: waitlisted
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{class_id}")
    await expect(page.locator("table[aria-labelledby=waiting] tbody tr")).to_have_text(re.compile("1\\s*Vũ Thị Dung"))
    quota = page.locator("table[aria-labelledby=quotas] tbody tr")
    await expect(quota.locator("td")).to_have_text(["Đảng ủy xã Hoa Lộc", re.compile("^không giới hạn"), "2", "1"])
    await screenshot("1-waiting")

    await page.get_by_role("link", name="Rút Lê Văn Bình").click()
    await page.get_by_role("button", name="Đồng ý rút học viên").click()  # no reason
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_text(
        "Nhập lý do học viên rút khỏi lớp, tối đa 500 ký tự")
    await page.get_by_label("Lý do rút").fill("Đơn xin rút vì đi công tác dài ngày")
    await page.get_by_role("button", name="Đồng ý rút học viên").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Đã rút học viên khỏi lớp. 1 học viên được chuyển từ danh sách chờ vào lớp.")
    names = await page.locator("table[aria-labelledby=roster] tbody tr td:nth-child(2)").all_inner_texts()
    assert names == ["Phạm Đức An", "Vũ Thị Dung"]
    await expect(page.locator("table[aria-labelledby=waiting]")).to_have_count(0)
    await screenshot("2-withdrawn")


async def test_the_province_administrator_chooses_a_centre_then_sees_its_classes(console, page: Page, screenshot,
                                                                                seeded_class):
    await page.goto(f"{console.url}/classes")
    await page.get_by_label("Tên đăng nhập").fill("quantri.tinh")
    await page.get_by_label("Mật khẩu").fill("demo")
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page.get_by_role("heading", name="Chọn trung tâm")).to_be_visible()
    await page.get_by_label("Mã trung tâm").fill("Hậu Lộc")
    await page.get_by_role("button", name="Đến trung tâm").click()
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#code")
    await screenshot("1-centre-refused")
    await page.get_by_label("Mã trung tâm").fill("hau-loc")
    await page.get_by_role("button", name="Đến trung tâm").click()
    await expect(page.get_by_role("heading", name=re.compile("^Lớp học"))).to_contain_text("hau-loc")
    await page.get_by_label("Tên lớp có chứa").fill(seeded_class["title"][-6:])
    await page.get_by_role("button", name="Lọc").click()
    await expect(page.locator("tbody tr")).to_have_count(1)
    await screenshot("2-classes")


async def test_staff_finalise_a_class_told_who_lacks_a_score_then_revoke_a_certificate(
        console, page: Page, screenshot, seeded_class, services, http):
    base = f"{services.urls['assessment']}/v1/centres/hau-loc/classes/{seeded_class['class_id']}"
    learners = {r["full_name"]: r["learner_id"] for r in (await http.get(
        f"{services.urls['enrolment']}/v1/centres/hau-loc/classes/{seeded_class['class_id']}/enrolments")).json()}
    scores = {"Phạm Đức An": 8.5, "Trần Thị Ánh": 7.0, "Nguyễn Văn Anh": 4.0, "Lê Văn Bình": 9.0, "Vũ Thị Dung": 6.5}
    for name, score in scores.items():  # Hoàng Văn Đông has none yet
        r = await _until_known(lambda: http.post(f"{base}/scores", json={"learner_id": learners[name], "score": score}))
        assert r.status_code == 201, r.text
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{seeded_class['class_id']}")
    await page.get_by_role("link", name="Điểm và kết quả học tập").click()
    await expect(page.locator("table[aria-labelledby=scores] tbody tr")).to_have_count(5)
    await page.get_by_role("button", name="Chốt kết quả").click()
    await expect(page.get_by_role("alert")).to_contain_text("Hoàng Văn Đông")
    await screenshot("1-lacking")

    r = await http.post(f"{base}/scores", json={"learner_id": learners["Hoàng Văn Đông"], "score": 7.5})
    assert r.status_code == 201, r.text
    await page.get_by_role("button", name="Chốt kết quả").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Đã chốt kết quả; học viên đạt đã được cấp giấy chứng nhận.")
    rows = page.locator("table[aria-labelledby=final-title] tbody tr")
    await expect(rows).to_have_count(6)
    await expect(rows.nth(2)).to_contain_text("Nguyễn Văn Anh")
    await expect(rows.nth(2)).to_contain_text("Không đạt")
    await expect(page.locator("table[aria-labelledby=certificates] tbody tr")).to_have_count(5)
    await screenshot("2-final")

    number = await page.locator("table[aria-labelledby=certificates] tbody tr").first.locator("td").first.inner_text()
    await page.get_by_role("link", name=f"Thu hồi {number}").click()
    await page.get_by_role("button", name="Đồng ý thu hồi").click()  # no reason
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_text(
        "Nhập lý do thu hồi giấy chứng nhận, tối đa 500 ký tự")
    await page.get_by_label("Lý do thu hồi").fill("Cấp nhầm người")
    await page.get_by_role("button", name="Đồng ý thu hồi").click()
    await expect(page.get_by_role("status")).to_have_text(f"Đã thu hồi giấy chứng nhận {number}.")
    await expect(page.locator("table[aria-labelledby=certificates] tbody tr").first).to_contain_text(
        "Đã thu hồi: Cấp nhầm người")
    await screenshot("3-revoked")


async def test_the_home_page_shows_the_year_s_classes_by_status_this_month_s_classes_and_the_figures(
        console, page: Page, screenshot, seeded_class):
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/?year=2027")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Năm 2027")
    open_tile = page.get_by_role("link", name=re.compile("Đang tuyển sinh$"))
    assert int((await open_tile.locator(".figure").inner_text())) >= 1  # the seeded class, at least
    figures = page.locator("table[aria-labelledby=figures]")
    await expect(figures.locator("tbody tr", has_text="Bồi dưỡng đảng viên mới")).to_have_count(1)
    await expect(figures.locator("tfoot")).to_contain_text("Tổng cộng")
    await screenshot("1-home")
    await open_tile.click()  # the year's open classes
    await expect(page.get_by_label("Năm")).to_have_value("2027")
    await expect(page.get_by_label("Trạng thái")).to_have_value("open")
    await page.get_by_label("Tên lớp có chứa").fill(seeded_class["title"][-6:])  # the list may run to pages
    await page.get_by_role("button", name="Lọc").click()
    await expect(page.locator("tbody tr", has_text=seeded_class["title"])).to_have_count(1)


async def test_staff_move_a_learner_to_another_open_class_after_forgetting_to_choose_one(
        console, page: Page, screenshot, seeded_class, services, http):
    target = f"Lớp bồi dưỡng đảng viên mới đợt 2 – {uuid.uuid4().hex[:6]}"
    r = await http.post(f"{services.urls['scheduling']}/v1/centres/hau-loc/classes", json={
        "programme_type": "dang_vien_moi", "title": target, "capacity": 40, "starts_on": "2027-04-05",
        "ends_on": "2027-04-14", "venue": "Hội trường Trung tâm"})
    assert r.status_code == 201, r.text
    target_id = r.json()["class_id"]
    await _until_known(lambda: http.get(
        f"{services.urls['enrolment']}/v1/centres/hau-loc/classes/{target_id}/enrolments"))
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{seeded_class['class_id']}")
    await page.get_by_role("link", name="Chuyển lớp Lê Văn Bình").click()
    await page.get_by_role("button", name="Chuyển học viên").click()  # no class chosen
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_text("Chọn lớp học viên chuyển đến")
    await screenshot("1-refused")
    await page.get_by_label("Lớp chuyển đến").select_option(label=f"{target} (05/04/2027 – 14/04/2027)")
    await page.get_by_role("button", name="Chuyển học viên").click()
    await expect(page.get_by_role("status")).to_have_text("Đã chuyển học viên sang lớp này, số chỗ ngồi 1.")
    await expect(page.get_by_role("heading", level=1)).to_have_text(target)
    names = await page.locator("table[aria-labelledby=roster] tbody tr td:nth-child(2)").all_inner_texts()
    assert names == ["Lê Văn Bình"]
    await screenshot("2-moved")


async def test_staff_set_an_organisation_s_quota_told_when_the_list_changed_meanwhile(
        console, page: Page, screenshot, seeded_class, services, http):
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{seeded_class['class_id']}")
    await page.get_by_role("link", name="Sửa Đảng ủy xã Hoa Lộc").click()
    await expect(page.locator("dl.summary")).to_contain_text("6")
    roster = f"{services.urls['enrolment']}/v1/centres/hau-loc/classes/{seeded_class['class_id']}/enrolments"
    r = await http.post(roster, json={"full_name": "Đinh Văn Hải", "date_of_birth": "1991-01-01",
                                      "sending_organisation": ORG})  # a colleague enrols one more meanwhile
    assert r.status_code == 201, r.text
    await page.get_by_label("Chỉ tiêu").fill("10")
    await page.get_by_role("button", name="Đặt chỉ tiêu").click()
    await expect(page.get_by_role("alert")).to_contain_text("Danh sách lớp đã thay đổi sau khi đồng chí mở trang")
    await expect(page.locator("dl.summary")).to_contain_text("7")  # shown as it is now
    await page.get_by_label("Chỉ tiêu").fill("mười")
    await page.get_by_role("button", name="Đặt chỉ tiêu").click()
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#quota")
    await expect(page.get_by_label("Chỉ tiêu")).to_have_value("mười")
    await screenshot("1-refused")
    await page.get_by_label("Chỉ tiêu").fill("10")
    await page.get_by_role("button", name="Đặt chỉ tiêu").click()
    await expect(page.get_by_role("status")).to_have_text("Đã đặt chỉ tiêu.")
    await expect(page.locator("table[aria-labelledby=quotas] tbody tr td").nth(1)).to_have_text(re.compile("^10 "))


async def test_everything_reads_and_submits_with_javascript_switched_off(console, browser, seeded_class):
    context = await browser.new_context(locale="vi-VN", java_script_enabled=False)
    try:
        page = await context.new_page()
        await sign_in(page, console.url)
        await page.get_by_label("Tên lớp có chứa").fill(seeded_class["title"][-6:])
        await page.get_by_role("button", name="Lọc").click()  # a plain GET form
        await page.get_by_role("link", name=seeded_class["title"]).click()
        names = await page.locator("table[aria-labelledby=roster] tbody tr td:nth-child(2)").all_inner_texts()
        assert names == IN_ORDER
        await page.goto(f"{console.url}/classes/new")
        await page.get_by_label("Số chỗ").fill("không")
        await page.get_by_role("button", name="Lưu lớp").click()
        await expect(page.get_by_role("alert")).to_contain_text("Nhập số chỗ học là một số nguyên từ 1 đến 5000")
    finally:
        await context.close()
