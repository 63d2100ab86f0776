"""Registering webhook endpoints over HTTP: the secret, the URL policy, problems, and who may do it."""
from __future__ import annotations

import base64

import pytest

pytestmark = pytest.mark.integration


async def test_an_endpoint_is_registered_with_a_secret_shown_once(start_notification, org_headers):
    service = await start_notification()
    r = await service.http.post("/v1/organisations/xa-hoa-loc/webhook-endpoints",
                                json={"url": "http://127.0.0.1:9/hooks", "description": "Văn phòng Đảng ủy"},
                                headers=org_headers("xa-hoa-loc"))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secret"].startswith("whsec_") and len(base64.b64decode(created["secret"][6:])) == 24
    assert created["enabled"] and created["organisation_code"] == "xa-hoa-loc"
    listed = (await service.http.get("/v1/organisations/xa-hoa-loc/webhook-endpoints",
                                     headers=org_headers("xa-hoa-loc"))).json()
    assert [e["endpoint_id"] for e in listed] == [created["endpoint_id"]]
    assert "secret" not in listed[0]

    again = await service.http.post("/v1/organisations/xa-hoa-loc/webhook-endpoints",
                                    json={"url": "http://127.0.0.1:9/hooks"}, headers=org_headers("xa-hoa-loc"))
    assert again.status_code == 409 and again.json()["type"] == "urn:ttct:problem:webhook-endpoint-exists"


@pytest.mark.parametrize("url, code", [
    ("http://127.0.0.1:8080/hooks", "webhook-target-refused"),
    ("http://localhost/hooks", "webhook-target-refused"),
    ("https://10.1.2.3/hooks", "webhook-target-refused"),
    ("http://169.254.169.254/latest/meta-data", "webhook-target-refused"),
    ("http://[::1]/hooks", "webhook-target-refused"),
    ("ftp://example.org/hooks", "webhook-url-invalid"),
    ("https://user:pw@example.org/hooks", "webhook-url-invalid"),
    ("not a url", "webhook-url-invalid"),
])
async def test_internal_and_malformed_targets_are_refused_with_a_problem(start_notification, org_headers, url, code):
    service = await start_notification(webhook_allow_private_targets=False)
    r = await service.http.post("/v1/organisations/xa-hoa-loc/webhook-endpoints", json={"url": url},
                                headers=org_headers("xa-hoa-loc"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"] == f"urn:ttct:problem:{code}" and problem["detail"] and problem["detail_vi"]


async def test_requests_are_strict_and_scoped_to_the_callers_organisation(start_notification, org_headers):
    service = await start_notification()
    url = "/v1/organisations/xa-hoa-loc/webhook-endpoints"
    r = await service.http.post(url, json={"url": "http://127.0.0.1:9/", "colour": "red"},
                                headers=org_headers("xa-hoa-loc"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.colour", r.text
    assert (await service.http.get(url)).status_code == 401
    assert (await service.http.get(url, headers=org_headers("huyen-doan"))).status_code == 404
    assert (await service.http.get("/v1/organisations/Not_A_Code/notices",
                                    headers=org_headers("xa-hoa-loc"))).status_code in (404, 422)
