"""Mass assignment refused (issue 7), on the running services: every operation with a JSON body in every service's
OpenAPI document answers a body carrying an unknown `is_admin` with a 422 problem naming it; a few real commands,
valid but for that field (at the top or nested), are refused and change nothing, and go through without it.
tests/unit/test_unknown_fields.py checks the models themselves."""
from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = pytest.mark.e2e
SERVICES = ("scheduling", "enrolment", "assessment", "notification")


def concrete(path: str) -> str:
    values = {"centre": "hau-loc", "org": "xa-hoa-loc", "code": "ky-nang", "organisation": "xa-hoa-loc"}
    out = path
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        out = out[:start] + values.get(out[start + 1:end], str(uuid.uuid4())) + out[end + 1:]
    return out


def names_extra(r: httpx.Response, field: str, *, only: bool = False) -> None:
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:ttct:problem:invalid-input" and body["detail_vi"], body
    extra = [e for e in body["errors"] if e["field"] == field]
    assert extra and "extra" in extra[0]["message"].lower(), body["errors"]
    if only:
        assert len(body["errors"]) == 1, body["errors"]


@pytest.fixture
async def admin(issuer):
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("province-admin")) as client:
        yield client


async def test_every_json_body_refuses_an_unknown_field_by_name(services, admin):
    tried = 0
    for service in SERVICES:
        doc = (await admin.get(f"{services.urls[service]}/openapi.json")).json()
        for path, operations in doc["paths"].items():
            for method, op in operations.items():
                if "application/json" not in op.get("requestBody", {}).get("content", {}):
                    continue
                r = await admin.request(method.upper(), services.urls[service] + concrete(path),
                                        json={"is_admin": True})
                names_extra(r, "body.is_admin")
                tried += 1
    assert tried >= 20


async def test_a_valid_command_with_an_extra_field_is_refused_and_changes_nothing(services, admin, issuer):
    centre = f"c-{uuid.uuid4().hex[:8]}"
    classes = f"{services.urls['scheduling']}/v1/centres/{centre}/classes"
    new_class = {"programme_type": "ky_nang", "title": "Lớp kỹ năng", "capacity": 5, "starts_on": "2027-06-01",
                 "ends_on": "2027-06-10", "venue": "Hội trường"}
    names_extra(await admin.post(classes, json={**new_class, "is_admin": True}), "body.is_admin", only=True)
    names_extra(await admin.post(classes, json={**new_class, "status": "open", "centre": "nga-son"}), "body.centre",
                only=True)
    assert (await admin.get(classes)).json() == []
    assert (await admin.post(classes, json=new_class)).status_code == 201

    directory = f"{services.urls['enrolment']}/v1/sending-organisations"
    code = f"xa-{uuid.uuid4().hex[:6]}"
    head = {"name": "Lê Văn Bình", "role": "bí thư", "is_head": True}
    org = {"code": code, "name": "Đảng ủy xã", "kind": "party-committee", "centre": centre, "contacts": [head]}
    names_extra(await admin.post(directory, json={**org, "contacts": [{**head, "is_admin": True}]}),
                "body.contacts.0.is_admin", only=True)
    assert (await admin.get(f"{directory}/{code}")).status_code == 404
    assert (await admin.post(directory, json=org)).status_code == 201, org

    hooks = f"{services.urls['notification']}/v1/organisations/{code}/webhook-endpoints"
    as_org = issuer.headers("organisation", org=code)
    endpoint = {"url": "https://hooks.example.vn/ttct"}
    names_extra(await admin.post(hooks, json={**endpoint, "enabled": False, "secret": "whsec_mine"},
                                 headers=as_org), "body.secret")
    assert (await admin.get(hooks, headers=as_org)).json() == []
