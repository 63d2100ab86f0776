"""Lecturers' teaching hours through scheduling's API: what a centre pays its part-time lecturers and
collaborators from. Only sessions held count (cancelled ones and those still to come do not), only the centre's
own, per month and for the year, by kind of lecturer; the same figures as a paper and as spreadsheets."""
from __future__ import annotations

import uuid

import httpx
import pytest
from ttct_dev.paper_checks import csv_rows, render_pages, vietnamese_text, xlsx_rows, xlsx_sheets

pytestmark = pytest.mark.e2e

PAST = {"programme_type": "dang_vien_moi", "title": "Lớp bồi dưỡng đảng viên mới khóa 4", "capacity": 40,
        "starts_on": "2025-11-01", "ends_on": "2025-12-20", "venue": "Hội trường Trung tâm"}
FUTURE = {**PAST, "title": "Lớp bồi dưỡng đảng viên mới khóa 9", "starts_on": "2099-03-01", "ends_on": "2099-03-20"}


class Centre:
    def __init__(self, services, client: httpx.AsyncClient, code: str) -> None:
        self.client, self.code = client, code
        self.root = services.urls["scheduling"]
        self.base = f"{self.root}/v1/centres/{code}"

    async def post(self, path: str, body: dict) -> dict:
        r = await self.client.post(f"{self.base}{path}", json=body)
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def lecturer(self, name: str, kind: str) -> str:
        body = {"full_name": name, "kind": kind, **({"home_centre": self.code} if kind == "part_time" else {})}
        r = await self.client.post(f"{self.root}/v1/lecturers", json=body)
        assert r.status_code == 201, r.text
        return r.json()["lecturer_id"]

    async def session(self, class_id: str, lecturer_id: str, day: str, start: str, end: str) -> str:
        if not hasattr(self, "venue"):
            self.venue = (await self.post("/venues", {"name": "Hội trường A", "seats": 120}))["venue_id"]
        return (await self.post(f"/classes/{class_id}/sessions", {
            "session_date": day, "starts_at": start, "ends_at": end, "topic": "Lịch sử Đảng bộ huyện",
            "lecturer_id": lecturer_id, "venue_id": self.venue}))["session_id"]

    async def hours(self, expect: int = 200, **params) -> httpx.Response:
        r = await self.client.get(f"{self.base}/lecturer-hours", params=params)
        assert r.status_code == expect, r.text
        return r


@pytest.fixture
async def centres(services, issuer):
    a, b = f"c-{uuid.uuid4().hex[:8]}", f"c-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("centre-staff", centre=[a, b])) as client:
        yield Centre(services, client, a), Centre(services, client, b)


async def test_hours_count_the_sessions_held_at_the_centre_per_month_and_kind(centres):
    centre, elsewhere = centres
    past = (await centre.post("/classes", PAST))["class_id"]
    future = (await centre.post("/classes", FUTURE))["class_id"]
    other = (await elsewhere.post("/classes", PAST))["class_id"]
    xuan = await centre.lecturer("Trần Thị Xuân", "collaborator")
    an = await centre.lecturer("Lê Văn An", "party_leader")
    await centre.session(past, xuan, "2025-11-03", "07:30", "11:00")  # 3 h 30
    await centre.session(past, an, "2025-11-05", "13:30", "16:30")  # 3 h
    await centre.session(past, xuan, "2025-12-01", "07:30", "09:45")  # 2 h 15
    cancelled = await centre.session(past, xuan, "2025-12-02", "07:30", "11:00")
    await centre.post(f"/classes/{past}/sessions/{cancelled}/cancel", {"reason": "Giảng viên ốm"})
    await centre.session(future, xuan, "2099-03-02", "07:30", "11:00")  # not held yet
    await elsewhere.session(other, xuan, "2025-11-10", "07:30", "11:00")  # taught at, and paid by, another centre

    year = (await centre.hours(year=2025)).json()
    assert [(h["full_name"], h["kind"], h["sessions"], float(h["hours"]), float(h["periods"]))
            for h in year["lecturers"]] == [("Lê Văn An", "party_leader", 1, 3.0, 4.0),
                                            ("Trần Thị Xuân", "collaborator", 2, 5.75, 7.67)]
    xuan_months = next(h for h in year["lecturers"] if h["lecturer_id"] == xuan)["months"]
    assert [(m["month"], m["sessions"], float(m["hours"])) for m in xuan_months] == [(11, 1, 3.5), (12, 1, 2.25)]
    assert {k["kind"]: k["sessions"] for k in year["by_kind"]} == {"collaborator": 2, "party_leader": 1}
    assert (year["total"]["sessions"], float(year["total"]["hours"])) == (3, 8.75)

    december = (await centre.hours(year=2025, month=12)).json()
    assert [(h["full_name"], h["sessions"], float(h["hours"])) for h in december["lecturers"]] == [
        ("Trần Thị Xuân", 1, 2.25)]
    assert (await centre.hours(year=2099)).json()["lecturers"] == []
    assert (await elsewhere.hours(year=2025)).json()["total"]["sessions"] == 1

    paper = (await centre.hours(year=2025, format="pdf")).content
    text = vietnamese_text(paper)
    assert "Bảng tổng hợp giờ giảng".upper() in text.upper() and "năm 2025" in text
    assert "Trần Thị Xuân" in text and "Cộng tác viên" in text and "5,75" in text and "Lãnh đạo cấp ủy" in text
    render_pages(paper, "giờ-giảng-2025")

    book = (await centre.hours(year=2025, format="xlsx")).content
    assert xlsx_sheets(book) == ["Bảng tổng hợp giờ giảng", "Theo tháng"]
    assert [(r["Họ và tên"], r["Số buổi"], r["Số giờ"]) for r in xlsx_rows(book)] == [
        ("Lê Văn An", 1, 3.0), ("Trần Thị Xuân", 2, 5.75)]
    assert [(r["Họ và tên"], r["Tháng"], r["Số giờ"]) for r in xlsx_rows(book, "Theo tháng")] == [
        ("Lê Văn An", 11, 3.0), ("Trần Thị Xuân", 11, 3.5), ("Trần Thị Xuân", 12, 2.25)]
    rows = csv_rows((await centre.hours(year=2025, format="csv")).content)
    assert [r["Họ và tên"] for r in rows] == ["Lê Văn An", "Trần Thị Xuân"]


async def test_hours_are_for_the_centre_s_staff_and_a_bad_period_is_refused(services, issuer, centres):
    centre, _ = centres
    # a lecturer of the centre may not read what the others are paid; to an organisation the centre is not there
    for role, extra, status in (("lecturer", {"centre": [centre.code]}, 403), ("organisation", {"org": "xa-hoa-loc"}, 404)):
        r = await centre.client.get(f"{centre.base}/lecturer-hours", params={"year": 2025},
                                    headers=issuer.headers(role, **extra))
        assert r.status_code == status, (role, r.text)
    for params in ({}, {"year": 2025, "month": 13}, {"year": "năm-nay"}):
        r = await centre.hours(expect=422, **params)
        assert r.headers["content-type"].startswith("application/problem+json") and r.json()["detail_vi"]


async def test_the_register_lists_lecturers_by_given_name_the_vietnamese_way_page_by_page(centres):
    centre, _ = centres
    names = ["Trần Văn Em", "Lê Thị Ánh", "Phạm Văn Dũng", "Nguyễn Thị An", "Hoàng Văn Đức", "Đỗ Thị Ăn"]
    for name in names:
        await centre.lecturer(name, "part_time")
    url, seen = f"{centre.root}/v1/lecturers", []
    r = await centre.client.get(url, params={"home_centre": centre.code, "limit": 4})
    while True:
        assert r.status_code == 200, r.text
        seen += [x["full_name"] for x in r.json()]
        if "x-next-cursor" not in r.headers:
            break
        r = await centre.client.get(url, params={"home_centre": centre.code, "limit": 4,
                                                 "cursor": r.headers["x-next-cursor"]})
    assert seen == ["Nguyễn Thị An", "Lê Thị Ánh", "Đỗ Thị Ăn", "Phạm Văn Dũng", "Hoàng Văn Đức", "Trần Văn Em"]
