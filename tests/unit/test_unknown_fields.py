"""Mass assignment is refused (issue 7): the model behind every route's JSON body, and every model nested in it,
forbids unknown fields, so `{"is_admin": true}` is a 422 naming the field, never silently dropped or stored.

Every route of every service is found by building its app (no servers) and walking its routes; the walk is checked
against the app's OpenAPI document, so a route it missed would fail here too. tests/e2e/test_unknown_fields.py
sends such bodies to the running services.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
# A multipart upload's form fields are named parameters, not a model a client could assign into; listed here so a
# new non-JSON body is looked at, not skipped unseen.
NOT_JSON = {("enrolment", "POST", "/v1/centres/{centre}/classes/{class_id}/enrolments/import")}


def _survey() -> list[dict]:
    """Each app's body routes, built in a process of its own (building an app configures logging and tracing
    globally, as the docs test notes)."""
    result = subprocess.run([sys.executable, __file__], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def survey() -> list[dict]:
    return _survey()


def test_every_json_body_model_and_its_nested_models_forbid_unknown_fields(survey):
    json_routes = [r for r in survey if (r["service"], r["method"], r["path"]) not in NOT_JSON]
    assert len(json_routes) >= 20 and {r["service"] for r in json_routes} == {
        "scheduling", "enrolment", "assessment", "notification"}
    lax = {f"{r['service']} {r['method']} {r['path']}": r["lax"] for r in json_routes if r["lax"]}
    assert lax == {}, f"request models that accept unknown fields (declare extra='forbid'): {lax}"
    unrefused = [f"{r['service']} {r['method']} {r['path']}" for r in json_routes if not r["refused"]]
    assert unrefused == [], f"a body with is_admin is not refused as an extra field: {unrefused}"
    assert all(r["nested"] >= 1 for r in json_routes)


def test_the_walk_found_every_operation_with_a_body_in_the_openapi_documents(survey):
    walked = {(r["service"], r["method"], r["path"]) for r in survey}
    documented = {tuple(op) for r in survey[:1] for op in r["documented"]}
    assert walked == documented
    assert {op for op in walked if op[2].endswith("/import")} == NOT_JSON


def _models(annotation, seen: set) -> None:
    """Every pydantic model an annotation names, however nested (lists, unions, Annotated, dict values)."""
    import typing

    from pydantic import BaseModel
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for field in annotation.model_fields.values():
            _models(field.annotation, seen)
    for argument in typing.get_args(annotation):
        _models(argument, seen)


def _routes(routes):
    from fastapi.routing import APIRoute
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI ≥ 0.16x keeps included routers as such
        if included is not None:
            yield from _routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def _main() -> None:
    from pydantic import BaseModel, ValidationError

    from ttct_dev.docs import SERVICES, build_app

    out, documented = [], []
    for service in SERVICES:
        app = build_app(service)
        for path, operations in app.openapi()["paths"].items():
            documented += [(service, method.upper(), path) for method, op in operations.items() if "requestBody" in op]
        for route in _routes(app.router.routes):
            if route.body_field is None:
                continue
            body = route.body_field.field_info.annotation
            seen: set = set()
            _models(body, seen)
            try:
                body.model_validate({"is_admin": True}) if issubclass(body, BaseModel) else None
                refused = False
            except ValidationError as exc:
                refused = any(e["type"] == "extra_forbidden" and e["loc"] == ("is_admin",) for e in exc.errors())
            for method in sorted(route.methods):
                out.append({"service": service, "method": method, "path": route.path, "nested": len(seen),
                            "refused": refused,
                            "lax": sorted(m.__name__ for m in seen if m.model_config.get("extra") != "forbid")})
    for row in out[:1]:
        row["documented"] = documented
    print(json.dumps(out))


if __name__ == "__main__":
    _main()
