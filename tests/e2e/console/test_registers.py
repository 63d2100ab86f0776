"""The registers a centre's sessions are scheduled from, in a real browser: a centre's staff member opens them from
the menu, adds a collaborator to the province's lecturers (the form refused once for an empty name, then put right),
finds them in the list narrowed to collaborators, in Vietnamese order, and adds a venue of the centre.
Screenshots: test-artifacts/console/."""
from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Page, expect

from tests.e2e.console.test_portal import sign_in
from ttct.domain.names import name_sort_key

pytestmark = pytest.mark.e2e


async def test_staff_add_a_collaborator_after_one_refusal_find_them_among_collaborators_and_add_a_venue(
        console, page: Page, screenshot, services, http):
    lecturer, venue = "Lê Thị Ngọc Bích", f"Phòng học tầng 2 – {uuid.uuid4().hex[:6]}"
    # another collaborator, added through the API, who comes first in Vietnamese order (by given name: An, Bích)
    r = await http.post(f"{services.urls['scheduling']}/v1/lecturers",
                        json={"full_name": "Đỗ Văn An", "kind": "collaborator"})
    assert r.status_code == 201, r.text

    await sign_in(page, console.url, "canbo.hauloc", "/classes")
    await page.get_by_role("navigation", name="Menu chính").get_by_role("link", name="Danh mục").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Danh mục")
    await screenshot("1-registers")

    await page.get_by_role("main").get_by_role("link", name="Giảng viên").click()
    await page.get_by_role("link", name="Thêm giảng viên").click()
    await page.get_by_label("Cộng tác viên").check()
    await page.get_by_label("Chức vụ").fill("Nguyên Phó Giám đốc Trung tâm")
    await page.get_by_role("button", name="Lưu giảng viên").click()
    summary = page.get_by_role("alert")
    await expect(summary.get_by_role("link")).to_have_text("Nhập họ và tên giảng viên, tối đa 200 ký tự")
    await expect(summary.get_by_role("link")).to_have_attribute("href", "#full_name")
    await expect(page.get_by_label("Họ và tên")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Cộng tác viên")).to_be_checked()  # what was chosen is kept
    await expect(page.get_by_label("Chức vụ")).to_have_value("Nguyên Phó Giám đốc Trung tâm")
    await screenshot("2-lecturer-refused")

    await page.get_by_label("Họ và tên").fill(lecturer)
    await page.get_by_role("button", name="Lưu giảng viên").click()
    await expect(page.get_by_role("status")).to_have_text(f"Đã thêm {lecturer} vào danh sách giảng viên của tỉnh.")
    await page.get_by_label("Loại giảng viên").select_option(label="Cộng tác viên")
    await page.get_by_role("button", name="Lọc").click()
    await page.wait_for_url("**/lecturers?kind=collaborator")
    row = page.get_by_role("row", name=lecturer)
    await expect(row).to_contain_text("Cộng tác viên")
    await expect(row).to_contain_text("Nguyên Phó Giám đốc Trung tâm")
    kinds = await page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert set(kinds) == {"Cộng tác viên"}
    names = await page.locator("tbody th").all_inner_texts()
    assert names == sorted(names, key=name_sort_key) and names.index("Đỗ Văn An") < names.index(lecturer)
    await screenshot("3-collaborators")
    found = (await http.get(f"{services.urls['scheduling']}/v1/lecturers", params={"kind": "collaborator"})).json()
    assert [(x["position"], x["home_centre"]) for x in found if x["full_name"] == lecturer] == [
        ("Nguyên Phó Giám đốc Trung tâm", None)]

    await page.get_by_role("link", name="Địa điểm").click()
    await page.get_by_role("link", name="Thêm địa điểm").click()
    await page.get_by_label("Tên địa điểm").fill(venue)
    await page.get_by_label("Số chỗ").fill("45")
    await screenshot("4-venue-form")
    await page.get_by_role("button", name="Lưu địa điểm").click()
    await expect(page.get_by_role("status")).to_have_text(f"Đã thêm {venue} vào danh sách địa điểm của trung tâm.")
    await expect(page.get_by_role("row", name=venue)).to_contain_text("45")
    await screenshot("5-venues")
