"""A centre's staff member and a learner's personal data, in a real browser: opening the learner's record is a
reading the personal-data access log then shows; the learner's erasure on request is refused without a reason,
then done, and the record and the class's roster show the learner as erased. Screenshots: test-artifacts/console/."""
from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.console.test_staff_journey import sign_in
from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e
ORG = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}
CENTRE = "hau-loc"
ERASED = "(đã xoá theo yêu cầu / erased on request)"


@pytest.fixture
async def clerk(issuer):
    """Another of the centre's staff, who enrols the learner: a person's username, as the log shows it (a generated
    subject, "centre-staff-…", would read on the page as English)."""
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("centre-staff", centre=CENTRE,
                                                                    subject="vanthu.hauloc")) as client:
        yield client


@pytest.fixture
async def enrolled_learner(services, clerk, organisations):
    """A class of the Hậu Lộc centre with one learner, once assessment keeps the learner's record."""
    http = clerk
    await organisations({ORG["code"]: ORG["name"]})
    tag = uuid.uuid4().hex[:6]
    r = await http.post(f"{services.urls['scheduling']}/v1/centres/{CENTRE}/classes", json={
        "programme_type": "dang_vien_moi", "title": f"Lớp bồi dưỡng đảng viên mới – dữ liệu cá nhân {tag}",
        "capacity": 40, "starts_on": "2027-03-01", "ends_on": "2027-03-10", "venue": "Hội trường Trung tâm"})
    assert r.status_code == 201, r.text
    class_id = r.json()["class_id"]
    roster = f"{services.urls['enrolment']}/v1/centres/{CENTRE}/classes/{class_id}/enrolments"
    await _until_known(lambda: http.get(roster))
    name = f"Đinh Thị Riêng {tag.upper()}"  # found nowhere else
    r = await http.post(roster, json={"full_name": name, "date_of_birth": "1991-08-23", "sending_organisation": ORG,
                                      "gender": "female", "position": "Bí thư Chi đoàn"})
    assert r.status_code == 201, r.text
    learner_id = r.json()["learner_id"]
    for _ in range(200):
        r = await http.get(f"{services.urls['assessment']}/v1/learners/{learner_id}/record")
        if r.status_code == 200:
            break
        await asyncio.sleep(0.05)
    assert r.status_code == 200, r.text
    return {"class_id": class_id, "learner_id": learner_id, "name": name}


async def test_staff_see_their_reading_of_a_learner_in_the_access_log_then_erase_the_learner_with_a_reason(
        console, page: Page, screenshot, enrolled_learner):
    learner, name = enrolled_learner["learner_id"], enrolled_learner["name"]
    await sign_in(page, console.url)
    await page.goto(f"{console.url}/classes/{enrolled_learner['class_id']}")
    await page.get_by_role("link", name=name, exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    await screenshot("1-learner")

    # the reading just made is the newest of the learner's lines, in assessment's log, by this staff member
    await page.get_by_role("link", name="Ai đã xem hoặc thay đổi dữ liệu của học viên này").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Nhật ký truy cập dữ liệu cá nhân")
    await expect(page.get_by_label("Mã học viên")).to_have_value(learner)
    newest = page.locator("table.access-log tbody tr").first
    await expect(newest).to_contain_text("Đánh giá kết quả")
    await expect(newest).to_contain_text("canbo.hauloc")
    await expect(newest).to_contain_text("Cán bộ trung tâm")
    await expect(newest).to_contain_text("Xem: quá trình học tập của học viên")
    await expect(newest.get_by_role("cell").first).to_have_text(re.compile(r"^\d\d/\d\d/\d{4} \d\d:\d\d$"))
    await expect(newest.get_by_role("link", name=learner[:8])).to_have_attribute("href", f"/learners/{learner}")
    await expect(page.get_by_role("navigation", name="Menu chính").get_by_role(
        "link", name="Truy cập dữ liệu cá nhân")).to_be_visible()
    await screenshot("2-access-log")

    # the erasure: said plainly, refused without a reason (beside the field and on top), then done
    await newest.get_by_role("link", name=learner[:8]).click()
    await page.get_by_role("link", name="Xoá dữ liệu cá nhân của học viên").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Xoá dữ liệu cá nhân của học viên")
    await expect(page.get_by_role("main")).to_contain_text("Không thể hoàn tác.")
    await page.get_by_role("button", name="Đồng ý xoá dữ liệu cá nhân của học viên").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Nhập lý do xoá dữ liệu của học viên, tối đa 500 ký tự")
    await expect(summary.get_by_role("link")).to_have_attribute("href", "#reason")
    await expect(page.get_by_label("Lý do xoá")).to_have_attribute("aria-invalid", "true")
    assert (await page.title()).startswith("Lỗi: ")
    await screenshot("3-erasure-refused")

    reason = "Đơn đề nghị của học viên ngày 05/12/2026, số 15/ĐN"
    await page.get_by_label("Lý do xoá").fill(reason)
    await page.get_by_role("button", name="Đồng ý xoá dữ liệu cá nhân của học viên").click()
    await expect(page.get_by_role("status")).to_contain_text("Đã xoá dữ liệu cá nhân của học viên.")
    # assessment forgets the name when it hears of the erasure from enrolment: a moment later
    for _ in range(100):
        if ERASED in await page.get_by_role("heading", level=1).inner_text():
            break
        await asyncio.sleep(0.1)
        await page.reload()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(ERASED)
    await expect(page.get_by_role("main")).to_contain_text("đã được xoá theo yêu cầu")
    await expect(page.get_by_role("link", name="Xoá dữ liệu cá nhân của học viên")).to_have_count(0)
    await expect(page.locator("dl[aria-labelledby=profile]")).to_have_count(0)  # the sealed fields cannot open
    await screenshot("4-erased")

    await page.goto(f"{console.url}/classes/{enrolled_learner['class_id']}")
    await expect(page.locator("table[aria-labelledby=roster] tbody")).to_contain_text(ERASED)
    assert name not in await page.get_by_role("main").inner_text()
    await page.goto(f"{console.url}/personal-data-access?learner={learner}&service=enrolment")
    erasure = page.locator("table.access-log tbody tr", has_text="xoá dữ liệu cá nhân của học viên")
    await expect(erasure).to_contain_text("Thay đổi")
    await expect(erasure).to_contain_text(reason)
