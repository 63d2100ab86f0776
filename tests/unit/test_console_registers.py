"""The console's registers of lecturers and venues without servers: a register longer than one of scheduling's pages
is read whole before it is put in Vietnamese order; a lecturer of the centre is sent with the centre they belong
to; scheduling's refusal of a venue's name already taken is shown beside the name."""
from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.unit.test_console_sessions import console_with, csrf_of, sign_in

pytestmark = pytest.mark.unit


def _lecturer(n: int, full_name: str, kind: str = "collaborator") -> dict:
    return {"lecturer_id": f"00000000-0000-0000-0000-{n:012d}", "full_name": full_name, "kind": kind,
            "position": None, "home_centre": None}


# scheduling's two pages, each in its own order: the console orders the whole register
PAGES = {None: ([_lecturer(1, "Trần Văn Bình"), _lecturer(2, "Hoàng Thị Yến")], "next"),
         "next": ([_lecturer(3, "Lê Văn An", "in_house")], None)}


def fake_scheduling(asked: list[Request], posted: list[dict]) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/lecturers")
    async def lecturers(request: Request, cursor: str | None = None) -> JSONResponse:
        asked.append(request)
        rows, after = PAGES[cursor]
        return JSONResponse(rows, headers={"X-Next-Cursor": after} if after else {})

    @app.post("/v1/lecturers", status_code=201)
    async def register_lecturer(request: Request) -> dict:
        posted.append(await request.json())
        return _lecturer(4, posted[-1]["full_name"], posted[-1]["kind"])

    @app.post("/v1/centres/{centre}/venues")
    async def add_venue(centre: str, request: Request) -> JSONResponse:
        posted.append(await request.json())
        return JSONResponse({"type": "urn:ttct:problem:venue-exists", "title": "Conflict", "status": 409,
                             "detail": "the centre already has a venue named 'Hội trường'",
                             "detail_vi": "Trung tâm đã có địa điểm tên 'Hội trường'"}, status_code=409)

    return app


@pytest.fixture
def world(tmp_path):
    asked, posted = [], []
    with console_with(tmp_path, fake_scheduling(asked, posted)) as (console, provider):
        sign_in(console, provider)
        yield console, provider, asked, posted


def test_the_whole_register_of_lecturers_is_read_page_after_page_and_shown_in_vietnamese_order(world):
    console, _, asked, _ = world
    page = console.get("/lecturers?kind=nobody")  # an unknown kind filters nothing out, as a typo should
    assert page.status_code == 200
    assert [dict(r.query_params) for r in asked] == [{}, {"cursor": "next"}]
    names = [n for n in ("Lê Văn An", "Trần Văn Bình", "Hoàng Thị Yến") if n in page.text]
    assert sorted(names, key=page.text.index) == ["Lê Văn An", "Trần Văn Bình", "Hoàng Thị Yến"]
    assert "Giảng viên của trung tâm" in page.text and "Số giảng viên: 3" in page.text


def test_a_lecturer_of_the_centre_is_sent_with_their_centre_and_a_collaborator_with_none(world):
    console, _, _, posted = world
    form = console.get("/lecturers/new").text
    for kind in ("in_house", "collaborator"):
        done = console.post("/lecturers/new", follow_redirects=False, data={
            "csrf": csrf_of(form), "key": f"key-{kind}", "full_name": "  Nguyễn  Thị Hoa ", "kind": kind,
            "position": ""})
        assert done.status_code == 303 and done.headers["location"] == "/lecturers"
    assert posted == [{"full_name": "Nguyễn Thị Hoa", "kind": "in_house", "position": None, "home_centre": "hau-loc"},
                      {"full_name": "Nguyễn Thị Hoa", "kind": "collaborator", "position": None, "home_centre": None}]


def test_a_venue_s_name_already_taken_is_refused_beside_the_name_and_seats_that_are_not_a_number_are_not_sent(world):
    console, _, _, posted = world
    form = console.get("/venues/new").text
    page = console.post("/venues/new", data={"csrf": csrf_of(form), "key": "k1", "name": "Hội trường", "seats": "4x"})
    assert page.status_code == 422 and posted == []
    assert '<a href="#seats">Nhập số chỗ là số nguyên từ 1 đến 10000, hoặc để trống</a>' in page.text

    page = console.post("/venues/new", data={"csrf": csrf_of(form), "key": "k2", "name": "Hội trường", "seats": ""})
    assert page.status_code == 422 and posted == [{"name": "Hội trường", "seats": None}]
    assert '<a href="#name">Trung tâm đã có địa điểm tên &#39;Hội trường&#39;</a>' in page.text
    assert 'id="name-error"' in page.text and 'value="Hội trường"' in page.text


def test_the_province_s_administrator_adds_a_centre_s_own_lecturer_only_once_a_centre_is_chosen(world):
    console, provider, _, posted = world
    console.cookies.clear()
    sign_in(console, provider, username="quantri.tinh")
    form = console.get("/lecturers/new").text
    page = console.post("/lecturers/new", data={"csrf": csrf_of(form), "key": "k", "full_name": "Nguyễn Thị Hoa",
                                                "kind": "part_time", "position": ""})
    assert page.status_code == 422 and posted == []
    assert '<a href="#kind">Trước hết hãy chọn trung tâm (Đổi trung tâm)' in page.text
