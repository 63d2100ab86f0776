"""The console's pages for the rest of a centre's year without servers: a period that cannot be sent on is refused
beside its field and scheduling is not asked; a service's file reaches the browser as the service made it, asked
for with the person's own token."""
from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.testclient import TestClient

from console.app import create_app
from console.settings import ConsoleSettings
from tests.unit.test_console_sessions import CONSOLE, Hosts, sign_in
from ttct_dev.oidc import provider_app
from ttct_dev.tokens import LocalIssuer

pytestmark = pytest.mark.unit
HOURS_CSV = "\ufeffGiảng viên,Loại giảng viên,Số buổi,Số giờ\nĐỗ Thị Giảng,Giảng viên kiêm chức,1,3.5\n".encode()
DISPOSITION = "attachment; filename*=UTF-8''Gio%20giang%2011-2025.csv"


def fake_scheduling(asked: list[Request]) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/centres/{centre}/lecturer-hours")
    async def hours(centre: str, request: Request) -> Response:
        asked.append(request)
        return Response(HOURS_CSV, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": DISPOSITION, "X-Internal": "not for the browser"})

    return app


@pytest.fixture
def world(tmp_path):
    issuer, asked = LocalIssuer(tmp_path), []
    idp = provider_app(issuer, "http://idp", {"ttct-console": f"{CONSOLE}/auth/callback"})
    transport = httpx.ASGITransport(app=Hosts({"idp": idp, "scheduling": fake_scheduling(asked)}))
    settings = ConsoleSettings(
        province_code="thanh-hoa", public_url=CONSOLE, scheduling_url="http://scheduling", enrolment_url="http://e",
        assessment_url="http://a", notification_url="http://n", session_secret="s" * 40,
        oidc_metadata_url="http://idp/.well-known/openid-configuration", session_idle_minutes=30)
    with TestClient(create_app(settings, transport), base_url=CONSOLE) as console, \
            TestClient(idp, base_url="http://idp") as provider:
        sign_in(console, provider)
        yield console, asked


def test_a_year_that_is_not_four_digits_is_refused_beside_its_field_and_scheduling_is_not_asked(world):
    console, asked = world
    page = console.get("/lecturer-hours?year=20x5&month=11")
    assert page.status_code == 422 and asked == []
    assert '<a href="#year">Nhập năm gồm bốn chữ số, ví dụ 2027</a>' in page.text
    assert 'value="20x5"' in page.text and '<option value="11" selected>' in page.text  # what was typed is kept
    assert console.get("/lecturer-hours/file?year=2025&format=exe").status_code == 422 and asked == []


def test_a_download_is_scheduling_s_own_file_asked_for_with_the_person_s_token(world):
    console, asked = world
    got = console.get("/lecturer-hours/file?year=2025&month=11&format=csv")
    assert got.status_code == 200 and got.content == HOURS_CSV
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"] == DISPOSITION and "x-internal" not in got.headers
    [request] = asked
    assert dict(request.query_params) == {"year": "2025", "month": "11", "format": "csv"}
    assert request.headers["authorization"].startswith("Bearer ey")  # the person's access token, a JWT
