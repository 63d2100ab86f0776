"""The console without servers: signing in through the local identity provider (code + PKCE), the session
cookie's flags, the idle timeout, CSRF on forms, a service's 422 put beside the fields, and the catalogues. The
services and the provider are ASGI apps behind the console's HTTP transport."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from console import i18n, sessions
from console.app import create_app
from console.settings import ConsoleSettings
from ttct_dev.oidc import provider_app
from ttct_dev.tokens import LocalIssuer

pytestmark = pytest.mark.unit
CONSOLE = "http://127.0.0.1:8005"


def fake_scheduling(posted: list[dict], classes: list[dict]) -> FastAPI:
    """Scheduling's two routes the tests need, answering as the real one does."""
    app = FastAPI()

    @app.get("/v1/centres/{centre}/classes")
    async def list_classes(centre: str) -> list:
        return classes

    @app.post("/v1/centres/{centre}/classes")
    async def plan(centre: str, request: Request) -> JSONResponse:
        body = await request.json()
        posted.append(body)
        errors = [{"field": f"body.{k}", "message": "String should have at least 1 character"}
                  for k in ("title", "venue") if not body.get(k)]
        if errors:
            return JSONResponse({"type": "urn:ttct:problem:invalid-input", "status": 422,
                                 "detail": "invalid", "detail_vi": "Dữ liệu không hợp lệ", "errors": errors}, 422)
        if body["ends_on"] < body["starts_on"]:
            return JSONResponse({"type": "urn:ttct:problem:invalid-input", "status": 422, "detail": "the class must end on or after "
                                 "the day it starts", "detail_vi": "Ngày kết thúc lớp phải bằng hoặc sau ngày khai giảng"},
                                422)
        return JSONResponse({"class_id": "00000000-0000-0000-0000-000000000001", **body}, 201)

    return app


class Hosts:
    """One ASGI app per host name: the console's transport reaches the provider and the services through it."""

    def __init__(self, apps: dict[str, object]) -> None:
        self.apps = apps

    async def __call__(self, scope, receive, send):
        host = dict(scope["headers"])[b"host"].decode().split(":")[0]
        if host not in self.apps:
            raise httpx.ConnectError(f"{host}: connection refused")  # as a service that is down
        await self.apps[host](scope, receive, send)


@contextmanager
def console_with(tmp_path, scheduling: FastAPI) -> Iterator[tuple[TestClient, TestClient]]:
    """The console with `scheduling` behind it, and the local identity provider to sign in at."""
    idp = provider_app(LocalIssuer(tmp_path), "http://idp", {"ttct-console": f"{CONSOLE}/auth/callback"})
    transport = httpx.ASGITransport(app=Hosts({"idp": idp, "scheduling": scheduling}))
    settings = ConsoleSettings(
        province_code="thanh-hoa", public_url=CONSOLE, scheduling_url="http://scheduling", enrolment_url="http://e",
        assessment_url="http://a", notification_url="http://n", session_secret="s" * 40,
        oidc_metadata_url="http://idp/.well-known/openid-configuration", session_idle_minutes=30)
    with TestClient(create_app(settings, transport), base_url=CONSOLE) as console, \
            TestClient(idp, base_url="http://idp") as provider:
        yield console, provider


@pytest.fixture
def world(tmp_path):
    posted, classes = [], []
    with console_with(tmp_path, fake_scheduling(posted, classes)) as (console, provider):
        console.classes = classes  # what scheduling lists
        yield console, provider, posted


def sign_in(console: TestClient, provider: TestClient, password: str = "demo",
            username: str = "canbo.hauloc") -> httpx.Response:
    to_idp = console.get("/sign-in?next=/classes", follow_redirects=False)
    authorize = urlsplit(to_idp.headers["location"])
    query = dict(httpx.QueryParams(authorize.query))
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]  # PKCE
    back = provider.post("/authorize", data={**query, "username": username, "password": password},
                         follow_redirects=False)
    if back.status_code != 303:
        return back
    return console.get(back.headers["location"].removeprefix(CONSOLE), follow_redirects=False)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_signing_in_sets_an_httponly_lax_session_cookie_and_lands_where_the_person_was_going(world):
    console, provider, _ = world
    landed = sign_in(console, provider)
    assert landed.status_code == 303 and landed.headers["location"] == "/classes"
    cookie = landed.headers["set-cookie"]
    assert cookie.startswith("ttct_console=") and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # http://127.0.0.1: the developer's own machine
    page = console.get("/classes")
    assert page.status_code == 200 and "Lê Thị Hoa" in page.text and "Không có lớp nào phù hợp." in page.text


def test_pages_forbid_framing_scripts_from_elsewhere_and_caching_a_signed_in_person_s_page(world):
    console, provider, _ = world
    sign_in(console, provider)
    page = console.get("/classes")
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "default-src 'self'" in policy
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"


def test_a_page_says_how_long_the_console_took_for_it(world):
    """Server-Timing, as a browser's developer tools show it: the console's own time, apart from the network."""
    console, provider, _ = world
    sign_in(console, provider)
    timing = console.get("/classes").headers["server-timing"]
    name, _, duration = timing.partition(";dur=")
    assert name == "app" and 0 < float(duration) < 60_000


def test_a_wrong_password_stays_at_the_provider_and_signs_nobody_in(world):
    console, provider, _ = world
    refused = sign_in(console, provider, password="wrong")
    assert refused.status_code == 200 and "Tên đăng nhập hoặc mật khẩu không đúng" in refused.text
    assert console.get("/classes", follow_redirects=False).headers["location"] == "/sign-in?next=/classes"


def test_the_cookie_is_secure_outside_localhost():
    base = dict(province_code="thanh-hoa", scheduling_url="http://s", enrolment_url="http://e",
                assessment_url="http://a", notification_url="http://n", session_secret="s" * 40,
                oidc_metadata_url="https://id.example/.well-known/openid-configuration")
    assert not ConsoleSettings(public_url="http://localhost:8005", **base).secure_cookie
    assert ConsoleSettings(public_url="https://console.ttct.thanhhoa.gov.vn", **base).secure_cookie
    assert ConsoleSettings(public_url="http://10.0.0.5:8005", **base).secure_cookie


def test_after_the_idle_timeout_the_person_signs_in_again(world, monkeypatch):
    console, provider, _ = world
    sign_in(console, provider)
    assert console.get("/classes").status_code == 200
    later = time.time() + 31 * 60
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert console.get("/classes", follow_redirects=False).headers["location"] == "/sign-in?next=/classes"


def test_a_form_without_its_csrf_token_is_refused_and_nothing_is_sent_on(world):
    console, provider, posted = world
    sign_in(console, provider)
    form = {"programme_type": "so_cap_llct", "title": "Lớp A", "capacity": "30", "starts_on": "01/09/2027",
            "ends_on": "30/09/2027", "venue": "Hội trường", "status": "planned"}
    assert console.post("/classes/new", data=form).status_code == 403
    assert console.post("/classes/new", data={**form, "csrf": "forged"}).status_code == 403
    assert posted == []


def test_a_refusal_goes_beside_its_fields_in_vietnamese_and_what_was_typed_is_kept(world):
    console, provider, posted = world
    sign_in(console, provider)
    csrf = csrf_of(console.get("/classes/new").text)
    form = {"csrf": csrf, "programme_type": "so_cap_llct", "title": "", "capacity": "mười", "starts_on": "1/9/27x",
            "ends_on": "30/09/2027", "venue": "", "status": "planned"}
    page = console.post("/classes/new", data=form)  # what JSON cannot carry is refused here, not sent
    assert page.status_code == 422 and posted == []
    assert '<a href="#capacity">Nhập số chỗ học là một số nguyên từ 1 đến 5000</a>' in page.text
    assert '<a href="#starts_on">Nhập ngày khai giảng theo dạng dd/mm/yyyy' in page.text
    assert 'value="mười"' in page.text and 'value="1/9/27x"' in page.text

    page = console.post("/classes/new", data={**form, "capacity": "30", "starts_on": "01/09/2027"})
    assert posted[-1] == {"programme_type": "so_cap_llct", "title": "", "venue": "", "status": "planned",
                          "when_full": "waiting-list", "capacity": 30, "starts_on": "2027-09-01",
                          "ends_on": "2027-09-30"}
    summary = re.findall(r'<li><a href="#(\w+)">', page.text)
    assert summary == ["title", "venue"]  # the service's fields, in the form's order
    assert 'id="title-error"' in page.text and 'aria-describedby="title-hint title-error"' in page.text

    page = console.post("/classes/new", data={**form, "title": "Lớp A", "venue": "Hội trường", "capacity": "30",
                                              "starts_on": "30/09/2027", "ends_on": "01/09/2027"})
    assert "<li>Ngày kết thúc lớp phải bằng hoặc sau ngày khai giảng</li>" in page.text  # no one field: on top


def test_a_long_list_of_classes_is_paged_after_sorting_the_whole_list(world):
    console, provider, _ = world
    console.classes.extend({"class_id": f"00000000-0000-0000-0000-{i:012d}", "centre": "hau-loc",
                            "programme_type": "ky_nang", "title": f"Lớp {i:03d}", "capacity": i, "status": "open",
                            "starts_on": "2027-01-01", "ends_on": "2027-01-02"} for i in range(1, 121))
    sign_in(console, provider)
    first = console.get("/classes?sort=capacity&dir=desc")
    assert first.text.count("<tr>") == 50 + 1 and "Lớp 120" in first.text and "Lớp 070" not in first.text
    assert "Trang 1/3 (120 lớp)" in first.text and "Trang trước" not in first.text
    last = console.get("/classes?sort=capacity&dir=desc&page=3")
    assert last.text.count("<tr>") == 20 + 1 and "Lớp 020" in last.text and "Lớp 001" in last.text
    assert "Trang sau" not in last.text and 'page=2" rel="prev"' in last.text


def test_a_service_out_of_reach_gives_a_page_saying_so_not_a_server_error(world):
    console, provider, _ = world
    sign_in(console, provider)
    console.app.state.bases["scheduling"] = "http://nowhere"  # no such host behind the transport
    page = console.get("/classes")
    assert page.status_code == 503 and "Hiện chưa kết nối được tới một dịch vụ" in page.text


def test_every_text_of_the_console_is_translated_into_vietnamese():
    from pathlib import Path

    import console

    root = Path(console.__file__).parent
    found = {message for _file, _line, message, *_ in extract_from_dir(
        str(root), method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}, keywords={"_": None, "gettext": None,
                                                                                        "N_": None})}
    vietnamese = i18n.CATALOGUES["vi"]
    untranslated = sorted(m for m in found if isinstance(m, str) and vietnamese.gettext(m) == m)
    assert untranslated == []
    assert len(found) > 60


def test_a_page_and_the_api_calls_it_makes_are_one_trace(tmp_path):
    """An operator follows a slow page into the services: each call carries the page's trace (traceparent)."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    spans = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    issuer, seen = LocalIssuer(tmp_path), []
    scheduling = fake_scheduling([], [])

    async def recording(scope, receive, send):
        if scope["type"] == "http":
            seen.append(dict(scope["headers"]).get(b"traceparent", b"").decode())
        await scheduling(scope, receive, send)

    idp = provider_app(issuer, "http://idp", {"ttct-console": f"{CONSOLE}/auth/callback"})
    settings = ConsoleSettings(
        province_code="thanh-hoa", public_url=CONSOLE, scheduling_url="http://scheduling", enrolment_url="http://e",
        assessment_url="http://a", notification_url="http://n", session_secret="s" * 40,
        oidc_metadata_url="http://idp/.well-known/openid-configuration")
    transport = httpx.ASGITransport(app=Hosts({"idp": idp, "scheduling": recording}))
    with TestClient(create_app(settings, transport), base_url=CONSOLE) as console, \
            TestClient(idp, base_url="http://idp") as idp_client:
        sign_in(console, idp_client)
        seen.clear()
        assert console.get("/classes").status_code == 200
    assert seen and all(seen), seen
    [page] = [s for s in spans.get_finished_spans() if s.kind == trace.SpanKind.SERVER and s.name == "GET /classes"]
    assert {int(h.split("-")[1], 16) for h in seen} == {page.context.trace_id}
