"""A sending organisation tries its webhook endpoint with a test notice (signed like any other, verified here with
the Standard Webhooks library, to that endpoint only and never in the feed), disables and enables it, and reads its
profile with the contacts the directory holds; another organisation finds none of it (404)."""
from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from ttct_dev.directory import register_organisations

pytestmark = pytest.mark.e2e
HEAD = {"name": "Lê Văn Thắng", "role": "bí thư", "email": "bithu@xa.example.vn", "is_head": True}
OFFICE = {"name": "Văn phòng", "role": "văn phòng", "email": "vanphong@xa.example.vn"}


async def test_a_test_notice_goes_to_one_endpoint_and_an_endpoint_is_disabled_and_enabled(
        services, http, issuer, receiver):
    code = f"xa-thu-{uuid.uuid4().hex[:6]}"
    await register_organisations(http, services.urls["enrolment"], {code: "Đảng ủy xã Thử"},
                                 contacts=[HEAD, OFFICE])
    base = f"{services.urls['notification']}/v1/organisations/{code}"
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("organisation", org=code)) as org, \
            httpx.AsyncClient(timeout=30, headers=issuer.headers("organisation", org="xa-hoa-loc")) as other:
        made = []
        for hook in ("one", "two"):
            r = await org.post(f"{base}/webhook-endpoints", json={"url": receiver.url(f"{code}-{hook}")})
            assert r.status_code == 201, r.text
            receiver.secrets[f"{code}-{hook}"] = r.json()["secret"]
            made.append(r.json()["endpoint_id"])
        one, two = made

        r = await org.post(f"{base}/webhook-endpoints/{one}/test")
        assert r.status_code == 202, r.text
        [sent] = await receiver.at_least(f"{code}-one", 1)
        assert sent.verified and sent.webhook_id == r.json()["notice_id"] and sent.payload["type"] == "webhook.test"
        await asyncio.sleep(0.5)
        assert receiver.unique(f"{code}-two") == []  # the other endpoint is not sent it
        assert (await org.get(f"{base}/feed")).json()["data"] == []  # nor is the feed
        assert (await other.post(f"{base}/webhook-endpoints/{one}/test")).status_code == 404

        r = await org.post(f"{base}/webhook-endpoints/{one}/disable", json={"reason": "Bảo trì hệ thống"})
        assert r.status_code == 200 and not r.json()["enabled"] and r.json()["disabled_reason"] == "Bảo trì hệ thống"
        r = await org.post(f"{base}/webhook-endpoints/{one}/test")  # disabled: nothing sent
        assert r.status_code == 409 and r.json()["type"].endswith("webhook-endpoint-disabled")
        assert (await other.post(f"{base}/webhook-endpoints/{one}/enable")).status_code == 404
        # an address registered again while disabled: the old endpoint cannot be enabled beside it
        r = await org.post(f"{base}/webhook-endpoints", json={"url": receiver.url(f"{code}-one")})
        assert r.status_code == 201
        r = await org.post(f"{base}/webhook-endpoints/{one}/enable")
        assert r.status_code == 409 and r.json()["type"].endswith("webhook-endpoint-exists") and r.json()["detail_vi"]
        r = await org.post(f"{base}/webhook-endpoints/{two}/disable", json={})
        assert r.status_code == 200 and not r.json()["enabled"]
        r = await org.post(f"{base}/webhook-endpoints/{two}/enable")
        assert r.status_code == 200 and r.json()["enabled"] and r.json()["disabled_reason"] is None

        for _ in range(200):  # the directory's event reaches notification
            r = await org.get(f"{base}/profile")
            if r.status_code == 200:
                break
            await asyncio.sleep(0.05)
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "Đảng ủy xã Thử"
        assert [(c["name"], c.get("is_head", False)) for c in r.json()["contacts"]] == [
            ("Lê Văn Thắng", True), ("Văn phòng", False)]
        assert (await other.get(f"{base}/profile")).status_code == 404
        for endpoint in (await org.get(f"{base}/webhook-endpoints", params={"enabled": True})).json():
            await org.post(f"{base}/webhook-endpoints/{endpoint['endpoint_id']}/disable", json={})
