"""The province's administrator keeps the register of centres in a real browser, in Vietnamese: two fresh centres,
the first with a class taken to certificates, are registered (each after a page saying what will be registered);
a merge of a centre into itself and one of an unknown centre are refused, said in Vietnamese beside the field; the
merge of the first into the second is previewed (each centre's classes, learners and enrolments) and confirmed
once though clicked twice; the register then shows the first merged; the second is renamed by a decision. The
public verification page names the centre that issued a certificate, as it was named then. A centre's staff are
refused the pages. Every page is checked by axe and for English left untranslated. Screenshots:
test-artifacts/console/."""
from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.console.test_organisation_map import _fill_dated, today
from tests.e2e.console.test_portal import Finished, finish_a_class, sign_in

pytestmark = pytest.mark.e2e
YEAR = 2033  # a year of its own: the class is this test's alone


@pytest.fixture
async def centres(services, issuer):
    """Two fresh centre codes; the first has a class of YEAR with three learners taken to certificates."""
    tag = uuid.uuid4().hex[:6]
    found = {"tag": tag, "a": f"tt-a-{tag}", "b": f"tt-b-{tag}", "a_name": f"Trung tâm Chính trị huyện Nga Sơn {tag}",
             "b_name": f"Trung tâm Chính trị huyện Hậu Lộc {tag}"}
    org = {"code": f"xa-nga-an-{tag}", "name": f"Đảng ủy xã Nga An {tag}"}
    done = Finished()
    async with httpx.AsyncClient(timeout=60, headers=issuer.headers("centre-staff", centre=found["a"])) as staff:
        await finish_a_class(services.urls, staff, found["a"], done, year=YEAR, learners=[
            ("Mai Văn Đức", org, 8.0), ("Hoàng Thị Yến", org, 7.5), ("Vũ Văn Hải", org, 9.0)])
    found["certificate"] = done.certificates["Mai Văn Đức"]
    return found


async def _register(page: Page, console_url: str, code: str, name: str, screenshot=None) -> None:
    await page.goto(f"{console_url}/province/centres-register")
    await page.get_by_role("link", name="Đăng ký trung tâm").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Đăng ký trung tâm")
    await page.get_by_label("Mã trung tâm").fill(code)
    await page.get_by_label("Tên trung tâm").fill(name)
    await page.get_by_label("Địa chỉ (nếu có)").fill("Thị trấn, tỉnh Thanh Hóa")
    await page.get_by_label("Cơ quan chủ quản (nếu có)").fill("Huyện ủy")
    await page.get_by_label("Tên có hiệu lực từ ngày").fill("01/01/2020")
    await page.get_by_role("button", name="Kiểm tra trước khi xác nhận").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Kiểm tra trung tâm trước khi đăng ký")
    await expect(page.locator("dl.summary")).to_contain_text(name)
    if screenshot:
        await screenshot("2-register-check")
    await page.get_by_role("button", name="Xác nhận đăng ký").click()
    await expect(page.get_by_role("status")).to_have_text(f"Đã đăng ký {name}.")
    await expect(page.get_by_role("row", name=re.compile(code))).to_contain_text("Đang hoạt động")


async def test_the_province_admin_registers_two_centres_and_merges_one_into_the_other_after_a_preview(
        console, page: Page, screenshot, centres):
    a, b = centres["a"], centres["b"]
    await sign_in(page, console.url, "quantri.tinh", "/province/centres-register")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Danh mục trung tâm của tỉnh")
    await screenshot("1-register")

    # a code the console cannot take, then the two centres, each after its check page
    await page.get_by_role("link", name="Đăng ký trung tâm").click()
    await page.get_by_label("Mã trung tâm").fill("Hậu Lộc")
    await page.get_by_label("Tên trung tâm").fill(centres["a_name"])
    await page.get_by_role("button", name="Kiểm tra trước khi xác nhận").click()
    summary = page.get_by_role("alert")
    await expect(summary.get_by_role("link").first).to_have_attribute("href", "#code")
    await expect(summary).to_contain_text("Nhập mã trung tâm như các lớp đang dùng")
    await expect(page.get_by_label("Tên trung tâm")).to_have_value(centres["a_name"])  # nothing typed is lost
    await screenshot("1-register-refused")
    await _register(page, console.url, a, centres["a_name"], screenshot)
    await _register(page, console.url, b, centres["b_name"])

    # a centre merged into itself, then an unknown centre: refused beside the centres merged, in Vietnamese
    await page.get_by_role("link", name=f"Sáp nhập vào trung tâm khác {centres['a_name']}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sáp nhập trung tâm")
    await expect(page.get_by_label("Các trung tâm được sáp nhập (mã)")).to_have_value(a)
    await page.get_by_label("Trung tâm tiếp nhận (mã)").fill(a)
    await _fill_dated(page, "2150/QĐ-UBND")
    await page.get_by_role("button", name="Xem trước mỗi trung tâm đang có gì").click()
    await expect(page.get_by_role("alert")).to_contain_text("Mỗi trung tâm được sáp nhập chỉ ghi một lần")
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#predecessors")
    await expect(page.get_by_label("Số quyết định")).to_have_value("2150/QĐ-UBND")
    await screenshot("3-merge-itself")
    unknown = f"khong-co-{centres['tag']}"
    await page.get_by_label("Các trung tâm được sáp nhập (mã)").fill(f"{a}, {unknown}")
    await page.get_by_label("Trung tâm tiếp nhận (mã)").fill(b)
    await page.get_by_role("button", name="Xem trước mỗi trung tâm đang có gì").click()
    await expect(page.get_by_role("alert")).to_contain_text(f"Không có trung tâm {unknown} trong danh mục")
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#predecessors")
    await screenshot("4-merge-unknown")
    await page.get_by_label("Các trung tâm được sáp nhập (mã)").fill(a)
    await page.get_by_label("Trung tâm tiếp nhận (mã)").fill(unknown)
    await page.get_by_role("button", name="Xem trước mỗi trung tâm đang có gì").click()
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#successor_code")
    await expect(page.get_by_role("alert")).to_contain_text(f"Không có trung tâm {unknown} trong danh mục")
    await page.get_by_label("Trung tâm tiếp nhận (mã)").fill(b)

    # the preview: the first centre's class, its three learners and their enrolments (the class ends in YEAR)
    await page.get_by_label("Các trung tâm được sáp nhập (mã)").fill(a)
    await page.get_by_role("button", name="Xem trước mỗi trung tâm đang có gì").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Kiểm tra việc sáp nhập trung tâm trước khi xác nhận")
    moves = page.get_by_role("table", name="Mỗi trung tâm đang có gì")
    cells = moves.get_by_role("row", name=re.compile(f"\\({a}\\)")).locator("td")
    assert [await cells.nth(i).inner_text() for i in range(4)] == ["1", "1", "3", "3"]
    successor = moves.get_by_role("row", name=re.compile(f"\\({b}\\)")).locator("td")
    assert [await successor.nth(i).inner_text() for i in range(4)] == ["0", "0", "0", "0"]
    await expect(page.locator("main")).to_contain_text("Số 2150/QĐ-UBND, ký ngày 01/12/2026")
    await screenshot("5-merge-preview")
    await page.get_by_role("button", name="Quay lại sửa").click()  # back to the form, everything kept
    await expect(page.get_by_label("Trung tâm tiếp nhận (mã)")).to_have_value(b)
    await page.get_by_role("button", name="Xem trước mỗi trung tâm đang có gì").click()

    # a double click on the confirmation merges once (one Idempotency-Key from the form to the confirmation)
    confirmation = page.locator("form:has(button[value=confirm])")
    fields = {await i.get_attribute("name"): await i.get_attribute("value")
              for i in await confirmation.locator("input[type=hidden]").all()}
    await page.get_by_role("button", name="Xác nhận sáp nhập").dblclick()
    await expect(page.get_by_role("status")).to_have_text(
        f"Đã sáp nhập {a} vào {centres['b_name']} từ ngày {today()}.")
    await expect(page.get_by_role("row", name=re.compile(f"^{re.escape(centres['a_name'])}"))).to_contain_text(
        f"Đã sáp nhập vào {centres['b_name']} từ ngày {today()}")
    await expect(page.get_by_role("row", name=re.compile(f"^{re.escape(centres['b_name'])}"))).to_contain_text(
        f"Tiếp nhận: {centres['a_name']}")
    await screenshot("6-merged")
    # the same confirmation sent once more (a retry): answered as the first was, not refused as a second merge
    again = await page.request.post(f"{console.url}/province/centres-register/merge",
                                    form={**fields, "action": "confirm"})
    assert again.status == 200 and again.url.endswith("/province/centres-register")

    # a third centre made a site of the second: it stays active under its own staff
    c, c_name = f"tt-c-{centres['tag']}", f"Trung tâm Chính trị huyện Nga Sơn cơ sở 2 {centres['tag']}"
    await _register(page, console.url, c, c_name)
    await page.get_by_role("link", name=f"Sáp nhập vào trung tâm khác {c_name}").click()
    await page.get_by_label("Trung tâm tiếp nhận (mã)").fill(b)
    await page.get_by_label("Trở thành cơ sở của trung tâm tiếp nhận", exact=False).check()
    await _fill_dated(page, "2153/QĐ-UBND")
    await page.get_by_role("button", name="Xem trước mỗi trung tâm đang có gì").click()
    await expect(page.locator("main")).to_contain_text("cán bộ của từng cơ sở vẫn giữ quyền truy cập")
    await page.get_by_role("button", name="Xác nhận sáp nhập").click()
    await expect(page.get_by_role("status")).to_have_text(f"{c} là cơ sở của {centres['b_name']} từ ngày {today()}.")
    await expect(page.get_by_role("row", name=re.compile(f"^{re.escape(c_name)}"))).to_contain_text(
        f"Là cơ sở của {centres['b_name']} từ ngày {today()}")

    # merging it again is refused, naming its successor
    await page.goto(f"{console.url}/province/centres-register/merge?predecessor={a}")
    await page.get_by_label("Trung tâm tiếp nhận (mã)").fill(b)
    await _fill_dated(page, "2151/QĐ-UBND")
    await page.get_by_role("button", name="Xem trước mỗi trung tâm đang có gì").click()
    await expect(page.get_by_role("alert")).to_contain_text(f"Trung tâm {a} đã được sáp nhập vào {b}")

    # the successor renamed by a decision
    await page.goto(f"{console.url}/province/centres-register/{b}/rename")
    await page.get_by_label("Tên mới").fill(f"Trung tâm Chính trị Hậu Lộc - Nga Sơn {centres['tag']}")
    await _fill_dated(page, "2152/QĐ-UBND")
    await page.get_by_role("button", name="Kiểm tra trước khi xác nhận").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Kiểm tra tên mới trước khi xác nhận")
    await screenshot("7-rename-check")
    await page.get_by_role("button", name="Xác nhận thay đổi").click()
    await expect(page.get_by_role("status")).to_contain_text("Đã đổi tên trung tâm thành Trung tâm Chính trị Hậu Lộc")
    await expect(page.get_by_role("row", name=re.compile(b))).to_contain_text(f"(tên cũ: {centres['b_name']})")
    # a rename dated ahead: today's name stays, the coming one is said beside it
    await page.get_by_role("link", name=re.compile("^Đổi tên Trung tâm Chính trị Hậu Lộc - Nga Sơn")).click()
    await page.get_by_label("Tên mới").fill(f"Trung tâm Chính trị khu vực Hậu Lộc {centres['tag']}")
    await _fill_dated(page, "2154/QĐ-UBND")
    await page.get_by_label("Ngày có hiệu lực").fill("01/01/2030")
    await page.get_by_role("button", name="Kiểm tra trước khi xác nhận").click()
    await page.get_by_role("button", name="Xác nhận thay đổi").click()
    row = page.get_by_role("row", name=re.compile(b))
    await expect(row).to_contain_text(f"(tên cũ: {centres['b_name']})")
    await expect(row).to_contain_text(
        f"Mang tên Trung tâm Chính trị khu vực Hậu Lộc {centres['tag']} từ ngày 01/01/2030")
    await screenshot("8-renamed")

    # the public verification page names the centre that issued the certificate, as it was named then
    verify = f"{console.url}/verify/{centres['certificate']['verification_code']}"
    for _ in range(300):  # assessment hears of the registration from enrolment's events
        await page.goto(verify)
        if await page.get_by_text(centres["a_name"]).count():
            break
        await asyncio.sleep(0.2)
    await expect(page.locator("dl.summary")).to_contain_text(f"Trung tâm cấp{centres['a_name']}")
    await screenshot("9-verify")

    # the same register in English, the second language
    await page.goto(f"{console.url}/province/centres-register?lang=en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("The province's register of centres")
    await expect(page.get_by_role("row", name=re.compile(f"^{re.escape(centres['a_name'])}"))).to_contain_text(
        "Merged into ")


async def test_only_the_province_admin_sees_the_register_of_centres(console, page: Page, screenshot):
    await sign_in(page, console.url, "canbo.hauloc", "/classes")
    for path in ("/province/centres-register", "/province/centres-register/new", "/province/centres-register/merge",
                 "/province/centres-register/hau-loc/rename"):
        response = await page.goto(f"{console.url}{path}")
        assert response.status == 403
    await expect(page.locator("main")).to_contain_text("Chỉ quản trị cấp tỉnh mới được thay đổi danh mục trung tâm")
    await screenshot("forbidden")
