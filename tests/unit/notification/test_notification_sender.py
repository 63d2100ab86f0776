"""One signed webhook request, against httpx's mock transport: what goes out, and what comes back."""
import asyncio
import base64

import httpx
import pytest
from standardwebhooks import Webhook

from notification.adapters.sender import WebhookSender, make_client
from notification.domain.webhook_secrets import new_secret

pytestmark = pytest.mark.unit
SECRET = new_secret()
BODY = '{"type":"learner.result_recorded","data":{"full_name":"Nguyễn Thị Hoà","grade_label":"Giỏi"}}'


def sender(handler, *, allow_private=False, resolved=("93.184.216.34",), timeout=2.0, seen=None):
    async def resolver(host, port):
        if seen is not None:
            seen.append(host)
        return list(resolved)
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return WebhookSender(client, allow_private=allow_private, timeout=timeout, resolver=resolver)


async def test_the_request_is_signed_so_the_reference_library_verifies_it():
    got = []

    def handler(request):
        got.append(request)
        return httpx.Response(204)
    result = await sender(handler).send("https://hooks.example.org/ttct", SECRET, "notice-1", BODY)
    assert (result.status_code, result.error) == (204, None) and result.latency_ms >= 0
    [request] = got
    assert request.headers["webhook-id"] == "notice-1"
    assert request.headers["content-type"] == "application/json"
    assert Webhook(SECRET).verify(request.content, dict(request.headers))["data"]["grade_label"] == "Giỏi"


async def test_the_request_goes_to_the_checked_address_under_its_own_name():
    got = []

    def handler(request):
        got.append(request)
        return httpx.Response(200)
    await sender(handler).send("https://hooks.example.org:8443/ttct?x=1", SECRET, "n", BODY)
    [request] = got
    assert request.url == "https://93.184.216.34:8443/ttct?x=1"
    assert request.headers["host"] == "hooks.example.org:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.org"  # TLS is checked against the name


async def test_a_name_that_resolves_inside_the_network_is_refused_before_any_request():
    def handler(request):
        raise AssertionError("no request may be sent")
    result = await sender(handler, resolved=("93.184.216.34", "10.0.0.5")).send(
        "https://rebind.example.org/", SECRET, "n", BODY)
    assert result.status_code is None and result.error.startswith("refused:") and "10.0.0.5" in result.error


async def test_private_targets_are_sent_to_as_named_when_allowed():
    seen, got = [], []

    def handler(request):
        got.append(request)
        return httpx.Response(204)
    await sender(handler, allow_private=True, seen=seen).send("http://127.0.0.1:9000/h", SECRET, "n", BODY)
    assert got[0].url == "http://127.0.0.1:9000/h" and seen == []


async def test_a_failure_keeps_the_status_an_excerpt_and_retry_after():
    result = await sender(lambda r: httpx.Response(503, headers={"Retry-After": "30"}, text="bận, thử lại sau")
                          ).send("https://hooks.example.org/", SECRET, "n", BODY)
    assert result.status_code == 503 and result.retry_after == 30
    assert result.error == "HTTP 503: bận, thử lại sau"


async def test_a_slow_receiver_times_out_and_a_dead_one_is_an_error():
    async def slow(request):
        await asyncio.sleep(5)
        return httpx.Response(204)
    result = await sender(slow, timeout=0.1).send("https://hooks.example.org/", SECRET, "n", BODY)
    assert result.status_code is None and result.error == "timed out after 0.1 s"

    def dead(request):
        raise httpx.ConnectError("connection refused")
    result = await sender(dead).send("https://hooks.example.org/", SECRET, "n", BODY)
    assert result.status_code is None and "ConnectError" in result.error


def test_the_client_follows_no_redirects_and_ignores_proxy_settings(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    client = make_client(allow_private=False, timeout=15)
    assert client.follow_redirects is False and client._trust_env is False
    assert client.timeout.read == 15


def test_secrets_are_whsec_and_24_random_bytes():
    secret = new_secret(lambda n: bytes(range(n)))
    assert secret == "whsec_" + base64.b64encode(bytes(range(24))).decode()
    assert new_secret() != new_secret()
    Webhook(new_secret())  # the reference library accepts the format
