"""Request limits (shared/ttct/http/limits.py): bodies over the configured size get 413, a client over its rate 429
with Retry-After. The e2e tests run a scheduling service of their own with tight limits, on the session's stack;
the unit tests drive the middleware on a bare app."""
from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from fastapi import FastAPI, Request
from ttct.http.limits import BodySizeLimit, RateLimit, TokenBuckets
from ttct.http.problems import install_problem_handlers
from ttct_dev.services import Services

MAX_BODY, BURST, RATE = 2048, 5, 0.5
CLASS = {"programme_type": "chuyen_de", "title": "Chuyên đề", "capacity": 10, "starts_on": "2026-12-01",
         "ends_on": "2026-12-02", "venue": "Hội trường"}


@pytest.fixture(scope="module")
def limited(stack, issuer, tmp_path_factory):
    """Scheduling alone, in a province of its own, with a 2 KiB body limit and 5 requests then one per 2 s."""
    province = f"lim-{uuid.uuid4().hex[:8]}"
    running = Services(stack, issuer, province=province, services=("scheduling",),
                       log_dir=tmp_path_factory.mktemp("limits-logs"), database_prefix=f"lim_{uuid.uuid4().hex[:6]}_",
                       env={"MAX_BODY_BYTES": str(MAX_BODY), "RATE_LIMIT_PER_SECOND": str(RATE),
                            "RATE_LIMIT_BURST": str(BURST)})
    with running:
        yield running


def _headers(issuer, province: str) -> dict[str, str]:
    """A new centre-staff token (each has its own subject, so its own bucket)."""
    return issuer.headers("centre-staff", province=province, centre="hau-loc")


@pytest.mark.e2e
async def test_a_body_over_the_limit_is_refused_with_413_declared_or_chunked(limited, issuer):
    url = f"{limited.urls['scheduling']}/v1/centres/hau-loc/classes"
    big = json.dumps({**CLASS, "title": "x" * (MAX_BODY * 2)}).encode()
    async with httpx.AsyncClient(timeout=30, headers=_headers(issuer, limited.province)) as http:
        declared = await http.post(url, content=big, headers={"Content-Type": "application/json"})
        assert declared.status_code == 413
        assert declared.headers["content-type"] == "application/problem+json"
        assert declared.json()["type"] == "urn:ttct:problem:payload-too-large"
        assert declared.json()["max_bytes"] == MAX_BODY

    async def chunks():  # no Content-Length: Transfer-Encoding: chunked, 512 bytes at a time
        for start in range(0, len(big), 512):
            yield big[start:start + 512]

    async with httpx.AsyncClient(timeout=30, headers=_headers(issuer, limited.province)) as http:
        chunked = await http.post(url, content=chunks(), headers={"Content-Type": "application/json"})
        assert "content-length" not in chunked.request.headers
        assert chunked.status_code == 413 and chunked.json()["status"] == 413
        small = await http.post(url, json={"title": "too little"})  # under the limit: the route answers
        assert small.status_code == 422


@pytest.mark.e2e
async def test_a_client_over_its_rate_gets_429_with_retry_after_others_do_not(limited, issuer):
    url = f"{limited.urls['scheduling']}/v1/centres/hau-loc/classes"
    async with httpx.AsyncClient(timeout=30) as http:
        mine = _headers(issuer, limited.province)
        answers = [await http.get(url, headers=mine) for _ in range(BURST + 1)]
        assert [r.status_code for r in answers] == [200] * BURST + [429]
        refused = answers[-1]
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:ttct:problem:rate-limited"
        assert int(refused.headers["retry-after"]) == refused.json()["retry_after"] >= 1
        # another subject has a bucket of its own; health checks are never limited
        assert (await http.get(url, headers=_headers(issuer, limited.province))).status_code == 200
        assert (await http.get(f"{limited.urls['scheduling']}/healthz/ready")).status_code == 200
        await asyncio.sleep(int(refused.headers["retry-after"]))
        assert (await http.get(url, headers=mine)).status_code == 200  # refilled after Retry-After


@pytest.mark.e2e
async def test_calls_without_a_valid_token_are_limited_per_address(limited):
    url = f"{limited.urls['scheduling']}/v1/centres/hau-loc/classes"
    async with httpx.AsyncClient(timeout=30) as http:
        codes = [(await http.get(url, headers={"Authorization": f"Bearer forged-{i}"})).status_code
                 for i in range(BURST * 3)]
    assert codes[0] == 401 and codes[-1] == 429  # a new (invalid) token each time is still the same client


# --- the middleware on a bare app ---------------------------------------------------------------------------


def _app(**limits) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"ok": "yes"}

    if "max_bytes" in limits:
        app.add_middleware(BodySizeLimit, max_bytes=limits["max_bytes"])
    if "rate" in limits:
        app.add_middleware(RateLimit, rate=limits["rate"], burst=limits["burst"], verify=limits.get("verify"),
                           clock=limits.get("clock", lambda: 0.0))
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.mark.unit
async def test_body_limit_counts_the_bytes_received_not_only_the_declared_length():
    async with _client(_app(max_bytes=100)) as http:
        assert (await http.post("/echo", content=b"x" * 100)).json() == {"received": 100}
        assert (await http.post("/echo", content=b"x" * 101)).status_code == 413

        async def stream():
            for _ in range(5):
                yield b"x" * 30

        refused = await http.post("/echo", content=stream())
        assert refused.status_code == 413 and refused.json()["detail_vi"]
        # a Content-Length that understates the body does not help either
        lying = await http.post("/echo", content=stream(), headers={"Content-Length": "10"})
        assert lying.status_code == 413


@pytest.mark.unit
async def test_rate_limit_keys_on_the_verified_subject_else_the_address():
    class Caller:
        def __init__(self, subject: str) -> None:
            self.subject = subject

    async def verify(token: str) -> Caller:
        if not token.startswith("good-"):
            raise ValueError("bad token")
        return Caller(token.removeprefix("good-").split(".")[0])

    async with _client(_app(rate=1.0, burst=2, verify=verify)) as http:
        def get(token: str | None = None):
            return http.get("/ping", headers={"Authorization": f"Bearer {token}"} if token else {})

        assert [(await get("good-a.1")).status_code for _ in range(3)] == [200, 200, 429]
        assert (await get("good-a.2")).status_code == 429  # another token of the same subject: same bucket
        assert (await get("good-b.1")).status_code == 200
        assert [(await get(f"bad-{i}")).status_code for i in range(3)] == [200, 200, 429]  # by address
        assert (await get()).status_code == 429  # no token: the same address


@pytest.mark.unit
def test_token_buckets_refill_at_the_rate_up_to_the_burst():
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0], max_keys=2)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert buckets.take("a") == 0.0 and buckets.take("a") > 0
    now[0] += 100
    assert [buckets.take("a") for _ in range(4)][-1] > 0  # never more than the burst
    buckets.take("b"), buckets.take("c")  # over max_keys: the least recently used ("a") is forgotten
    assert "a" not in buckets._buckets and len(buckets._buckets) == 2
