"""The province's administrator changes the map of sending organisations in a real browser, in Vietnamese: two
communes' party committees of a fresh centre, with learners in a class and one with a webhook address, are merged
into a new one after a preview of what moves where (a refusal first, said in Vietnamese beside the field); the
directory then shows them merged, a second merge of the same is refused, the figures read by today's map count
their learners in the successor; the successor is renamed and moved, a third organisation dissolved into it, each
after its confirmation page. Every page is checked by axe and for English left untranslated; a clerk of a centre
is refused the pages. Screenshots: test-artifacts/console/."""
from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, expect
from ttct_dev.demo import _until_known
from ttct_dev.directory import register_organisations

from tests.e2e.console.test_portal import sign_in

pytestmark = pytest.mark.e2e
YEAR = 2031  # a year of its own: the class's places are this test's alone


def today() -> str:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y")


@pytest.fixture
async def communes(services, issuer, receiver):
    """Three party committees in a fresh centre's area and its centre area; a class of YEAR with two learners from
    the first commune and one from the second; the first commune's webhook address."""
    tag = uuid.uuid4().hex[:6]
    centre = f"m-{tag}"
    staff = issuer.headers("centre-staff", centre=centre)
    found = {"centre": centre, "tag": tag, "a": f"xa-hoa-loc-{tag}", "b": f"xa-hoa-phu-{tag}",
             "c": f"xa-loc-son-{tag}", "area": f"dia-ban-{tag}", "new": f"xa-hau-loc-{tag}"}
    async with httpx.AsyncClient(timeout=30, headers=staff) as http:
        await register_organisations(http, services.urls["enrolment"], {
            found["a"]: f"Đảng ủy xã Hòa Lộc {tag}", found["b"]: f"Đảng ủy xã Hòa Phú {tag}",
            found["c"]: f"Đảng ủy xã Lộc Sơn {tag}"}, centre=centre)
        await register_organisations(http, services.urls["enrolment"], {found["area"]: f"Địa bàn Hậu Lộc {tag}"},
                                     centre=centre, kind="centre-area")
        r = await http.post(f"{services.urls['scheduling']}/v1/centres/{centre}/classes", json={
            "programme_type": "so_cap_llct", "title": f"Lớp Sơ cấp LLCT {tag}", "capacity": 30,
            "starts_on": f"{YEAR}-03-02", "ends_on": f"{YEAR}-03-20", "venue": "Hội trường"})
        assert r.status_code == 201, r.text
        roster = f"{services.urls['enrolment']}/v1/centres/{centre}/classes/{r.json()['class_id']}/enrolments"
        for name, org in (("Nguyễn Văn An", "a"), ("Trần Thị Bình", "a"), ("Lê Văn Cường", "b")):
            enrolled = await _until_known(lambda name=name, org=org: http.post(roster, json={
                "full_name": name, "date_of_birth": "1986-05-17", "sending_organisation": {"code": found[org]}}))
            assert enrolled.status_code == 201, enrolled.text
        r = await http.post(f"{services.urls['notification']}/v1/organisations/{found['a']}/webhook-endpoints",
                            json={"url": receiver.url(found["a"])}, headers=issuer.headers("organisation", org=found["a"]))
        assert r.status_code == 201, r.text
    return found


async def _fill_dated(page: Page, number: str) -> None:
    await page.get_by_label("Số quyết định").fill(number)
    await page.get_by_label("Ngày ký").fill("01/12/2026")
    await page.get_by_label("Ngày có hiệu lực").fill(today())


async def test_the_province_admin_merges_two_communes_after_a_preview_and_changes_the_map(
        console, page: Page, screenshot, communes, services, issuer):
    a, b, new = communes["a"], communes["b"], communes["new"]
    await sign_in(page, console.url, "quantri.tinh", f"/province/organisations?centre={communes['centre']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Các đơn vị cử học viên của tỉnh")
    await expect(page.get_by_role("row", name=re.compile(a))).to_contain_text("Đang hoạt động")
    await screenshot("1-directory")

    # the two communes chosen in the directory; the new commune's code typed where an existing one's goes: refused
    await page.get_by_label(f"Chọn Đảng ủy xã Hòa Lộc {communes['tag']} để sáp nhập").check()
    await page.get_by_label(f"Chọn Đảng ủy xã Hòa Phú {communes['tag']} để sáp nhập").check()
    await page.get_by_role("button", name="Sáp nhập các đơn vị đã chọn").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sáp nhập đơn vị")
    await expect(page.get_by_label("Các đơn vị được sáp nhập (mã)")).to_have_value(f"{a}, {b}")
    await page.get_by_label("Mã đơn vị tiếp nhận").fill(new)
    await _fill_dated(page, "1686/QĐ-UBND")
    await page.get_by_role("button", name="Xem trước những gì được chuyển giao").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Có lỗi")
    await expect(summary.get_by_role("link")).to_have_attribute("href", "#successor_code")
    await expect(summary).to_contain_text(f"Đơn vị {new} chưa có trong danh mục")
    await expect(page.get_by_label("Số quyết định")).to_have_value("1686/QĐ-UBND")  # nothing typed is lost
    await screenshot("2-refused")

    # a new commune registered by the merge: the preview says what moves where
    await page.get_by_label("Một đơn vị mới, đăng ký cùng việc sáp nhập").check()
    await page.get_by_label("Mã đơn vị tiếp nhận").fill("")
    await page.get_by_label("Mã đơn vị mới").fill(new)
    await page.get_by_label("Tên đơn vị mới").fill(f"Đảng ủy xã Hậu Lộc {communes['tag']}")
    await page.get_by_label("Loại đơn vị").select_option("party-committee")
    await expect(page.get_by_label("Thuộc địa bàn trung tâm (mã)")).to_have_value(communes["centre"])
    await page.get_by_label("Họ và tên").fill("Lê Văn Thành")
    await page.get_by_label("Số điện thoại (nếu có)").fill("0912 000 111")
    await page.get_by_label("Thư điện tử (nếu có)").fill("bithu-hauloc")  # refused beside the field it concerns
    await page.get_by_role("button", name="Xem trước những gì được chuyển giao").click()
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#head_email")
    await expect(page.get_by_role("alert")).to_contain_text("Nhập địa chỉ thư điện tử như vanphong@hauloc.gov.vn")
    await expect(page.get_by_label("Tên đơn vị mới")).to_have_value(f"Đảng ủy xã Hậu Lộc {communes['tag']}")
    await page.get_by_label("Thư điện tử (nếu có)").fill("")
    await page.get_by_role("button", name="Xem trước những gì được chuyển giao").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Kiểm tra việc sáp nhập trước khi xác nhận")
    moves = page.get_by_role("table", name="Những gì được chuyển giao")
    # learners, enrolments in classes not yet finished, waiting, quotas, notices on their way
    assert await moves.get_by_role("row", name=re.compile(a)).locator("td").nth(0).inner_text() == "2"
    assert await moves.get_by_role("row", name=re.compile(a)).locator("td").nth(1).inner_text() == "2"
    assert await moves.get_by_role("row", name=re.compile(b)).locator("td").nth(0).inner_text() == "1"
    await expect(moves.get_by_role("row", name=re.compile(a))).to_contain_text(f"/{a}")  # its webhook to be disabled
    await expect(moves.get_by_role("row", name=re.compile(a))).to_contain_text("Lê Văn Bình (Người đứng đầu cấp ủy)")
    await expect(page.locator("main")).to_contain_text("Số 1686/QĐ-UBND, ký ngày 01/12/2026")
    await screenshot("3-preview")
    await page.get_by_role("button", name="Quay lại sửa").click()  # back to the form, everything kept
    await expect(page.get_by_label("Tên đơn vị mới")).to_have_value(f"Đảng ủy xã Hậu Lộc {communes['tag']}")
    await page.get_by_role("button", name="Xem trước những gì được chuyển giao").click()

    # a double click on the confirmation merges once (one Idempotency-Key from the form to the confirmation)
    confirmation = page.locator("form:has(button[value=confirm])")
    fields = {await i.get_attribute("name"): await i.get_attribute("value")
              for i in await confirmation.locator("input[type=hidden]").all()}
    await page.get_by_role("button", name="Xác nhận sáp nhập").dblclick()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"Đảng ủy xã Hậu Lộc {communes['tag']}")
    await expect(page.get_by_role("status")).to_contain_text(f"Đã sáp nhập {a}, {b} vào")
    merged_in = page.get_by_role("table", name="Các đơn vị đã sáp nhập hoặc giải thể vào đơn vị này")
    await expect(merged_in.locator("tbody tr")).to_have_count(2)
    await screenshot("4-merged")
    # the same confirmation sent once more (a retry): answered as the first was, not refused as a second merge
    again = await page.request.post(f"{console.url}/province/organisations/merge",
                                    form={**fields, "action": "confirm"})
    assert again.status == 200 and again.url.endswith(f"/province/organisations/{new}")

    await page.goto(f"{console.url}/province/organisations?centre={communes['centre']}")
    for code in (a, b):
        await expect(page.get_by_role("row", name=re.compile(code))).to_contain_text(
            f"Đã sáp nhập vào Đảng ủy xã Hậu Lộc {communes['tag']} từ ngày {today()}")
    await screenshot("5-directory-merged")

    # an organisation named twice, then the same merge again: refused, in Vietnamese, beside the organisations merged
    await page.goto(f"{console.url}/province/organisations/merge?predecessor={communes['c']}&predecessor={communes['c']}")
    await page.get_by_label("Mã đơn vị tiếp nhận").fill(new)
    await _fill_dated(page, "1687/QĐ-UBND")
    await page.get_by_role("button", name="Xem trước những gì được chuyển giao").click()
    await expect(page.get_by_role("alert")).to_have_text(re.compile("Mỗi đơn vị được sáp nhập chỉ ghi một lần"))
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#predecessors")
    await page.goto(f"{console.url}/province/organisations/merge?predecessor={a}")
    await page.get_by_label("Mã đơn vị tiếp nhận").fill(communes["c"])
    await _fill_dated(page, "1687/QĐ-UBND")
    await page.get_by_role("button", name="Xem trước những gì được chuyển giao").click()
    await expect(page.get_by_role("alert")).to_contain_text(f"Đơn vị {a} đã được sáp nhập hoặc giải thể vào {new}")
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#predecessors")
    await screenshot("6-refused-again")

    # renamed, then moved under the centre area, each after a page saying what will happen
    await page.goto(f"{console.url}/province/organisations/{new}/rename")
    await page.get_by_label("Tên mới").fill(f"Đảng ủy xã Hậu Lộc mới {communes['tag']}")
    await _fill_dated(page, "1700/QĐ-UBND")
    await page.get_by_role("button", name="Kiểm tra trước khi xác nhận").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Kiểm tra thay đổi trước khi xác nhận")
    await screenshot("7-rename-check")
    await page.get_by_role("button", name="Xác nhận thay đổi").click()
    await expect(page.get_by_role("status")).to_have_text("Đã đổi tên đơn vị.")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Đảng ủy xã Hậu Lộc mới")

    await page.get_by_role("link", name="Chuyển cấp trên").click()
    await page.get_by_label("Đơn vị cấp trên mới (mã)").fill("khong-co-don-vi-nay")
    await _fill_dated(page, "1701/QĐ-UBND")
    await page.get_by_role("button", name="Kiểm tra trước khi xác nhận").click()
    await expect(page.get_by_role("alert")).to_contain_text("Không có đơn vị khong-co-don-vi-nay trong danh mục")
    await screenshot("8-move-refused")
    await page.get_by_label("Đơn vị cấp trên mới (mã)").fill(communes["area"])
    await page.get_by_role("button", name="Kiểm tra trước khi xác nhận").click()
    await expect(page.locator("dl.summary")).to_contain_text(f"Địa bàn Hậu Lộc {communes['tag']}")
    await screenshot("9-move-check")
    await page.get_by_role("button", name="Xác nhận thay đổi").click()
    await expect(page.get_by_role("status")).to_have_text("Đã chuyển đơn vị sang cấp trên mới.")

    # the third commune dissolved into it: enrolment's and notification's previews, then confirmed
    await page.goto(f"{console.url}/province/organisations/{communes['c']}/dissolve")
    await page.get_by_label("Đơn vị tiếp nhận (mã)").fill(new)
    await _fill_dated(page, "1702/QĐ-UBND")
    await page.get_by_role("button", name="Kiểm tra trước khi xác nhận").click()
    await expect(page.get_by_role("table", name="Những gì được chuyển giao")).to_contain_text(communes["c"])
    await screenshot("10-dissolve-check")
    await page.get_by_role("button", name="Xác nhận thay đổi").click()
    await expect(page.get_by_role("status")).to_have_text("Đã giải thể đơn vị.")
    await expect(page.locator("dl.summary")).to_contain_text("Đã giải thể từ ngày")

    # the figures by the map as recorded, and by today's: the predecessors' learners counted in the successor
    centre_page = f"{console.url}/province/centres/{communes['centre']}?year={YEAR}"
    for _ in range(300):  # assessment hears of the enrolments and the merge from enrolment's events
        await page.goto(f"{centre_page}&map=today")
        if await page.get_by_role("row", name=re.compile(new)).count():
            break
        await asyncio.sleep(0.2)
    await expect(page.get_by_role("row", name=re.compile(new)).locator("td").nth(2)).to_have_text("3")
    await expect(page.get_by_role("radio", name="bản đồ hiện nay")).to_be_checked()
    await screenshot("11-figures-today")
    await page.get_by_role("radio", name="bản đồ khi ghi nhận").check()
    await page.get_by_role("button", name="Xem", exact=True).click()
    await expect(page.get_by_role("row", name=re.compile(a)).locator("td").nth(2)).to_have_text("2")
    await expect(page.get_by_role("row", name=re.compile(new))).to_have_count(0)
    await page.goto(f"{console.url}/province?year={YEAR}&map=today")
    await expect(page.get_by_role("row", name=re.compile(new))).to_contain_text("3")
    await screenshot("12-province-today")

    # the same pages in English, the second language
    await page.goto(f"{console.url}/province/organisations?centre={communes['centre']}&lang=en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sending organisations of the province")
    await expect(page.get_by_role("row", name=re.compile(a))).to_contain_text("Merged into ")
    await page.goto(f"{console.url}/province/organisations/merge?predecessor={communes['c']}")
    await expect(page.get_by_label("Organisations merged (codes)")).to_have_value(communes["c"])
    await screenshot("13-merge-form-english")


async def test_only_the_province_admin_sees_the_map_of_organisations(console, page: Page, screenshot, communes):
    await sign_in(page, console.url, "canbo.hauloc", "/classes")
    for path in ("/province/organisations", "/province/organisations/merge",
                 f"/province/organisations/{communes['a']}/rename"):
        response = await page.goto(f"{console.url}{path}")
        assert response.status == 403
    await expect(page.locator("main")).to_contain_text("Chỉ quản trị cấp tỉnh mới được thay đổi danh mục đơn vị")
    await screenshot("forbidden")
