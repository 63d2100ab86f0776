"""The four services as real processes on the session's servers, driven through their HTTP APIs."""
from __future__ import annotations

import json
import uuid

import httpx
import pytest

from ttct_dev.directory import register_organisations
from ttct_dev.receiver import WebhookReceiver
from ttct_dev.console import Console
from ttct_dev.services import Services, free_port
from ttct_dev.tokens import LocalIssuer


@pytest.fixture(scope="session")
def issuer(tmp_path_factory) -> LocalIssuer:
    return LocalIssuer(tmp_path_factory.mktemp("issuer"))


# who the centres are on paper (the papers' heading and signature); the papers' tests print for hau-loc-giay-to
CENTRES = {code: {"name": "Trung tâm Chính trị huyện Hậu Lộc", "superior": "Huyện ủy Hậu Lộc", "place": "Hậu Lộc",
                  "director": "Nguyễn Văn Hùng"} for code in ("hau-loc", "hau-loc-giay-to")}
CENTRES["thanh-hoa"] = {"name": "Ban Tuyên giáo Tỉnh ủy Thanh Hóa", "superior": "Tỉnh ủy Thanh Hóa",
                        "place": "Thanh Hóa", "director_title": "Trưởng ban"}


@pytest.fixture(scope="session")
def console_port() -> int:
    """The console's port, chosen before the services start: a certificate's QR code leads to its /verify page."""
    return free_port()


@pytest.fixture(scope="session")
def services(stack, issuer, tmp_path_factory, console_port):
    logs = tmp_path_factory.mktemp("service-logs")
    running = Services(stack, issuer, province="thanh-hoa", log_dir=logs, database_prefix=f"e2e_{uuid.uuid4().hex[:6]}_",
                       env={"CERTIFICATE_VERIFICATION_URL": f"http://127.0.0.1:{console_port}/verify","WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "RATE_LIMIT_PER_SECOND": "0", "WEBHOOK_RETRY_SCHEDULE": "0,0.2,0.5,1",
                            "CENTRES": json.dumps(CENTRES, ensure_ascii=False)})
    with running:
        yield running


@pytest.fixture(scope="session")
def console(services, issuer, console_port, tmp_path_factory):
    """The console and the local identity provider: the staff's, organisations' and province's pages, and the
    public page a certificate's QR code leads to."""
    with Console(services, issuer.dir.parent, log_dir=tmp_path_factory.mktemp("console-logs"),
                 port=console_port) as running:
        yield running


@pytest.fixture
async def http(issuer):
    """A client acting as the Hậu Lộc centre's staff."""
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("centre-staff", centre="hau-loc")) as client:
        yield client


@pytest.fixture
async def receiver():
    hooks = await WebhookReceiver().start()
    yield hooks
    await hooks.stop()


@pytest.fixture
def organisations(services, http):
    """Registers sending organisations (code -> name) in the province's directory, as the Hậu Lộc centre's staff;
    enrolment refuses learners of an organisation it does not know. Codes registered before stay as they are."""
    async def register(names: dict[str, str], **options) -> None:
        await register_organisations(http, services.urls["enrolment"], names, **options)
    return register
