"""Every route of every service, enumerated from its OpenAPI document, hides one tenant from another.

A new endpoint cannot escape: it is found here and tried with tokens of another centre and another
organisation (404 expected: the same answer as for an id that does not exist) and with no token (401).
"""
import uuid

import pytest

pytestmark = pytest.mark.e2e

SERVICES = ("scheduling", "enrolment", "assessment", "notification")
# Routes meant for anyone, without a token (e.g. certificate verification): they must say so in OpenAPI
# with the `public` tag, and are tried here only for not leaking another tenant's data.
PUBLIC_TAG = "public"


def concrete(path: str) -> str:
    values = {"centre": "hau-loc", "org": "xa-hoa-loc"}
    out = path
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        name = out[start + 1:end]
        out = out[:start] + values.get(name, str(uuid.uuid4())) + out[end + 1:]
    return out


async def operations(http, services):
    for service in SERVICES:
        doc = (await http.get(f"{services.urls[service]}/openapi.json")).json()
        for path, ops in doc["paths"].items():
            for method, op in ops.items():
                yield service, path, method.upper(), op


async def test_every_route_needs_a_token_unless_it_is_declared_public(services, http):
    found = 0
    async for service, path, method, op in operations(http, services):
        found += 1
        if PUBLIC_TAG in op.get("tags", []):
            continue
        assert op.get("security"), f"{service} {method} {path} declares no bearer security"
        r = await http.request(method, services.urls[service] + concrete(path), headers={"Authorization": ""},
                               json={})
        assert r.status_code == 401, (service, method, path, r.status_code, r.text[:200])
    assert found >= 10


async def test_another_centre_or_organisation_gets_404_on_every_tenant_route(services, http, issuer):
    strangers = {
        "another centre's staff": issuer.headers("centre-staff", centre="nga-son"),
        "another centre's lecturer": issuer.headers("lecturer", centre="nga-son"),
        "another organisation": issuer.headers("organisation", org="xa-khac"),
        "an integration client of another centre": issuer.headers(
            "integration", centre=["nga-son"], scope="classes:read classes:write enrolments:read enrolments:write "
            "scores:read scores:write notifications:read notifications:write"),
    }
    tried = 0
    async for service, path, method, op in operations(http, services):
        if PUBLIC_TAG in op.get("tags", []) or not ("{centre}" in path or "{org}" in path):
            continue
        for who, headers in strangers.items():
            r = await http.request(method, services.urls[service] + concrete(path), headers=headers, json={})
            assert r.status_code == 404, (who, service, method, path, r.status_code, r.text[:200])
            tried += 1
    assert tried >= 40
