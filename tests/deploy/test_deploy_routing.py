"""Routing: every operation of every service's OpenAPI document (docs/api/<service>.openapi.json) reaches the
service that owns it through the routes the chart renders, matched with the controller's own rules
(deploy_routes.py), for each example profile with the Gateway API's HTTPRoute and with the Ingress for
ingress-nginx. A new service (the console) is covered once its OpenAPI document is in docs/api and its entry in
the chart's services.
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest
from deploy_chart import PROFILES, ROOT, merged, profile_values, render
from deploy_routes import backend_component, gateway_matches, ingress_nginx_match, route
from ttct_dev.routes import RouteConflict, derive

pytestmark = pytest.mark.deploy

DOCUMENTS = {p.name.removesuffix(".openapi.json"): json.loads(p.read_text())
             for p in sorted((ROOT / "docs" / "api").glob("*.openapi.json")) if p.name != "gateway.openapi.json"}
TEMPLATES = {service: sorted(document["paths"]) for service, document in DOCUMENTS.items()}
LITERALS = sorted({s for ts in TEMPLATES.values() for t in ts for s in t.strip("/").split("/") if "{" not in s})
REALISTIC = {"centre": "hau-loc", "org": "xa-hoa-loc", "class_id": "6f1c2d4e-8a9b-4c3d-9e8f-7a6b5c4d3e2f",
             "learner_id": "0b9e8d7c-6a5b-4c3d-8e9f-1a2b3c4d5e6f", "session_id": "1d2c3b4a-5e6f-4a8b-9c0d-e1f2a3b4c5d6",
             "code": "so_cap_llct", "scheme": "cccd", "value": "038090001234", "verification_code": "K7Q2-M9XD",
             "certificate_number": "TTCT-2026-000123", "notice_id": "7e6d5c4b-3a2f-4e1d-8c9b-0a1b2c3d4e5f",
             "endpoint_id": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e", "organisation": "xa-lien-loc",
             "lecturer_id": "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e7f"}
INTERNAL = ["/healthz/live", "/healthz/ready", "/metrics", "/docs", "/openapi.json", "/", "/v1", "/v1/"]
GATEWAY = {"gateway": {"enabled": True, "parentRefs": [{"name": "public", "namespace": "gateway-system"}]}}
INGRESS = {"ingress": {"enabled": True, "className": "nginx", "hosts": ["api.example.vn"]}}


def _concrete(template: str, value_of) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: value_of(m[1]), template)


def requests() -> list[tuple[str, str, str]]:
    """(method, concrete path, template) for every operation: realistic values, then each parameter in turn
    holding every literal segment of the API (a centre called `classes`, a class id `sessions`)."""
    found = []
    for service, document in DOCUMENTS.items():
        for template, item in document["paths"].items():
            methods = [m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")]
            params = re.findall(r"\{(\w+)\}", template)
            for method in methods:
                found.append((method, _concrete(template, lambda n: REALISTIC.get(n, "x-1")), template))
            for param in params:
                for literal in LITERALS:
                    path = _concrete(template, lambda n, p=param, v=literal: v if n == p else REALISTIC.get(n, "x-1"))
                    found.append((methods[0], path, template))
    return found


def owners(path: str) -> set[str]:
    """The services whose OpenAPI templates match the concrete path, segment by segment, as the services do."""
    segments = path.strip("/").split("/")
    return {service for service, templates in TEMPLATES.items() for t in templates
            if len(ts := t.strip("/").split("/")) == len(segments)
            and all(a == b or a.startswith("{") for a, b in zip(ts, segments, strict=True))}


def gateway_components(rendered, path: str) -> set[str]:
    return {backend_component(rendered, name) for name in gateway_matches(rendered, path)}


def ingress_components(rendered, path: str) -> tuple[str | None, set[str]]:
    first, every = ingress_nginx_match(rendered, path)
    return (backend_component(rendered, first) if first else None), {backend_component(rendered, n) for n in every}


def _profiles_with(router: dict[str, Any]) -> list[Any]:
    return [pytest.param(p, router, id=f"{p}-{next(iter(router))}") for p in PROFILES]


ROUTERS = _profiles_with(GATEWAY) + _profiles_with(INGRESS)


def _render(profile: str, router: dict[str, Any]):
    return render(merged(profile_values(profile), router), release="edge", namespace="ttct-a")


@pytest.mark.parametrize("profile, router", ROUTERS)
def test_every_operation_reaches_its_owner_and_nothing_else(profile, router):
    rendered = _render(profile, router)
    wrong = []
    for method, path, template in requests():
        (owner,) = owners(path)
        if "gateway" in router:
            matched = gateway_components(rendered, path)
            if matched != {owner}:
                wrong.append(f"{method} {path} ({template}, {owner}): {sorted(matched) or 'no route'}")
        else:
            first, every = ingress_components(rendered, path)
            if first != owner or every != {owner}:
                wrong.append(f"{method} {path} ({template}, {owner}): first {first}, any of {sorted(every)}")
    assert wrong == [], "\n".join(wrong[:40])


@pytest.mark.parametrize("profile, router", ROUTERS)
def test_only_the_public_api_is_routed(profile, router):
    rendered = _render(profile, router)
    for path in INTERNAL:
        matched = gateway_components(rendered, path) if "gateway" in router else ingress_components(rendered, path)[1]
        assert not matched, f"{path} is routed to {matched}: /healthz, /metrics and /docs stay inside the cluster"


@pytest.mark.parametrize("profile, router", ROUTERS)
def test_routes_point_at_the_http_port_of_rendered_services(profile, router):
    rendered = _render(profile, router)
    deployments = {p.component: p for p in rendered.pods() if p.owner["kind"] == "Deployment"}
    if "gateway" in router:
        route = rendered.get("HTTPRoute", rendered.fullname)  # the API's (the console's host has one of its own)
        assert route["spec"]["parentRefs"] == router["gateway"]["parentRefs"] or profile == "province"
        backends = [(b["name"], b["port"]) for rule in route["spec"]["rules"] for b in rule["backendRefs"]]
        for rule in route["spec"]["rules"]:
            assert len(rule["matches"]) <= 64 and rule["timeouts"]["request"].endswith("s")
        assert sum(len(rule["matches"]) for rule in route["spec"]["rules"]) < 128, "the CRD's limit on matches"
    else:
        ingress = rendered.get("Ingress", rendered.fullname)
        backends = [(p["backend"]["service"]["name"], p["backend"]["service"]["port"]["name"])
                    for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
        assert {p["pathType"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]} == {
            "ImplementationSpecific"}, "ingress-nginx refuses regular expressions in Prefix and Exact paths"
    assert {name for name, _ in backends} == {f"{rendered.fullname}-{s}" for s in TEMPLATES if s in deployments}
    for name, port in set(backends):
        (service_port,) = [p for p in rendered.get("Service", name)["spec"]["ports"] if port in (p["port"], p["name"])]
        container = deployments[backend_component(rendered, name)].spec["containers"][0]
        assert service_port["targetPort"] in [p["name"] for p in container["ports"]]


@pytest.mark.parametrize("profile", PROFILES)
def test_the_ingress_lets_the_largest_import_through_to_the_service(profile):
    """ingress-nginx's default body limit is 1 MiB; an import may be MAX_BODY_BYTES (8 MiB), and a larger body must
    reach the service so that it answers with its own 413 problem, in English and Vietnamese."""
    rendered = _render(profile, INGRESS)
    for ingress in rendered.of("Ingress"):  # the API's, and the console's (a form posts an import through it)
        annotations = ingress["metadata"]["annotations"]
        limit = int(annotations["nginx.ingress.kubernetes.io/proxy-body-size"].removesuffix("m")) * 1024 * 1024
        for config_map in rendered.of("ConfigMap"):
            if "MAX_BODY_BYTES" in config_map.get("data", {}):
                assert limit > int(config_map["data"]["MAX_BODY_BYTES"]) >= 8 * 1024 * 1024
        assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 60


@pytest.mark.parametrize("profile, router", ROUTERS)
def test_the_console_has_its_host_to_itself(profile, router):
    """Where the console is on, every path of its host reaches it, /v1/ included, and the API's hosts never do."""
    rendered = _render(profile, router)
    hosts = (rendered.values["services"].get("console") or {}).get("publicHostnames") or []
    if not (rendered.values["services"].get("console") or {}).get("enabled"):
        assert not hosts and not any("console" in o["metadata"]["name"] for o in rendered.objects)
        return
    console = f"{rendered.fullname}-console"
    for host in hosts:
        for path in ("/", "/classes", "/sign-in", "/static/console.css", "/verify/K7Q2-M9XD"):
            assert route(rendered, path, host) == console, (host, path)
    for path in ("/", "/classes", "/sign-in"):
        assert route(rendered, path) is None  # the API's host: nothing but /v1/


def test_the_routes_file_is_what_the_openapi_documents_give():
    """files/api-routes.json is generated by `make docs`; tests/contract checks it is current, this that it is
    derived from the documents in docs/api."""
    committed = json.loads((ROOT / "deploy/helm/ttct/files/api-routes.json").read_text())
    assert committed == json.loads(json.dumps(derive(DOCUMENTS)))


def test_two_services_that_could_both_match_a_path_are_refused():
    clash = {"a": {"paths": {"/v1/centres/{centre}/classes/{class_id}": {}}},
             "b": {"paths": {"/v1/centres/{centre}/classes/import": {}}}}
    with pytest.raises(RouteConflict):
        derive(clash)


def test_a_literal_prefix_of_one_service_is_a_prefix_and_a_shared_one_is_exact():
    routes = derive({"a": {"paths": {"/v1/things/{id}/parts": {}, "/v1/things": {}}},
                     "b": {"paths": {"/v1/things/{id}/notes": {}, "/v1/others": {}}}})["services"]
    assert [(r["path"], r["match"]) for r in routes["a"]] == [("/v1/things", "exact"),
                                                              ("/v1/things/{id}/parts", "prefix")]
    assert [(r["path"], r["match"], r["literal"]) for r in routes["b"]] == [
        ("/v1/others", "prefix", True), ("/v1/things/{id}/notes", "prefix", False)]
    assert re.fullmatch(routes["b"][1]["regex"], "/v1/things/42/notes/7")
    assert not re.fullmatch(routes["b"][1]["regex"], "/v1/things/42/notesx")
