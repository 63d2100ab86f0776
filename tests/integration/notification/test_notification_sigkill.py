"""None lost when the notification process is killed (SIGKILL) in the middle of sending: the service runs as a
real process on real NATS and PostgreSQL, is killed while a webhook and an email are in flight, and restarted;
both arrive, with the same ids, and the lost attempts are in the logs as interrupted."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import httpx
import pytest

from notification_helpers import Course, eventually, publish, registered
from test_notification_kinds import HOA_LOC
from ttct_dev.services import free_port

pytestmark = pytest.mark.integration
ORG, OFFICE = "xa-hoa-loc", "vanphong@hoaloc.example.vn"


@pytest.fixture
def spawn(notification_db_url, notification_nats_url, notification_issuer, province, smtp, tmp_path, js):
    procs: list[subprocess.Popen] = []
    port = free_port()

    async def start() -> str:
        env = {**os.environ, "DATABASE_URL": notification_db_url, "NATS_URL": notification_nats_url,
               "PROVINCE_CODE": province, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(port),
               **notification_issuer.env, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "WEBHOOK_TIMEOUT": "2",
               "WEBHOOK_LEASE": "3", "WEBHOOK_RETRY_SCHEDULE": "0,0.3,0.3", "WEBHOOK_RETRY_JITTER": "0",
               "WEBHOOK_POLL_INTERVAL": "0.5", "CONSUMER_ACK_WAIT": "3", "SMTP_HOST": "127.0.0.1",
               "SMTP_PORT": str(smtp.port), "SMTP_TLS": "none", "SMTP_TIMEOUT": "2"}
        log = open(tmp_path / f"notification-{len(procs)}.log", "ab")  # noqa: SIM115
        procs.append(subprocess.Popen([sys.executable, "-m", "notification"], env=env, stdout=log,
                                      stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"

        async def ready():
            assert procs[-1].poll() is None, "the service exited"
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{url}/healthz/ready", timeout=1)).status_code == 200
            except httpx.HTTPError:
                return False
        await eventually(ready, timeout=30)
        return url

    yield start, procs
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)


async def test_a_webhook_and_an_email_in_flight_when_the_process_is_killed_are_sent_after_the_restart(
        spawn, js, all_receiver, smtp, org_headers, province):
    start, procs = spawn
    url = await start()
    async with httpx.AsyncClient(base_url=url, headers=org_headers(ORG)) as http:
        r = await http.post(f"/v1/organisations/{ORG}/webhook-endpoints", json={"url": all_receiver.url(ORG)})
        assert r.status_code == 201, r.text
        all_receiver.secrets[ORG] = r.json()["secret"]
    course = Course(province)
    await publish(js, [registered(province, ORG, "Đảng ủy xã Hoa Lộc", HOA_LOC), course.opened()])
    await asyncio.sleep(1.0)  # the contacts first
    all_receiver.delay[ORG] = 1.5  # the receiver holds the request...
    smtp.rcpt_delay = 1.5  # ...and the SMTP server the session, while the process is killed
    await publish(js, [course.join("Nguyễn Văn An", ORG)])
    await eventually(lambda: _in_flight(all_receiver, smtp))
    procs[-1].send_signal(signal.SIGKILL)
    procs[-1].wait(10)
    await asyncio.sleep(1.6)
    assert smtp.mails == []  # the killed session never reached DATA
    all_receiver.delay.clear()
    smtp.rcpt_delay = 0

    url = await start()
    await eventually(lambda: _arrived(all_receiver, smtp), timeout=30)
    await asyncio.sleep(1.0)
    [mail] = smtp.to(OFFICE)
    hook_ids = {h.webhook_id for h in all_receiver.hits[ORG]}
    assert hook_ids == {mail.message["X-TTCT-Notice-Id"]}  # at least once, never as a new notice
    async with httpx.AsyncClient(base_url=url, headers=org_headers(ORG)) as http:
        hooks = (await http.get(f"/v1/organisations/{ORG}/deliveries")).json()
        emails = (await http.get(f"/v1/organisations/{ORG}/email-deliveries")).json()
    assert [(a["attempt_no"], a["outcome"]) for a in hooks] == [(1, "interrupted"), (2, "delivered")]
    assert [(a["attempt_no"], a["outcome"]) for a in emails] == [(1, "interrupted"), (2, "delivered")]


async def _in_flight(receiver, smtp) -> bool:
    """The webhook request and the SMTP session have both begun and neither has been answered yet."""
    return receiver.started[ORG] > 0 and smtp.rcpt_started > 0 and not receiver.hits[ORG] and not smtp.mails


async def _arrived(receiver, smtp) -> bool:
    return bool(receiver.delivered(ORG)) and bool(smtp.to(OFFICE))
