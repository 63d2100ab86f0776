"""The documents in docs/events and docs/api are the ones the code generates, and say what the code does."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from ttct.contracts import EVENTS, ClassOpened, Envelope
from ttct.eventsourcing.topology import PUBLISHES, READS
from ttct_dev import docs

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(__file__).parent / "samples"


def test_the_generated_docs_in_the_repository_are_current():
    # A process of its own, as `make docs` runs it: building the apps configures logging and tracing globally.
    result = subprocess.run([sys.executable, "-m", "ttct_dev.docs", "check"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_faststream_docs_gen_writes_the_same_asyncapi_document(tmp_path):
    pytest.importorskip("typer", reason="the faststream CLI needs faststream[cli]")
    out = tmp_path / "asyncapi.json"
    subprocess.run([sys.executable, "-m", "faststream", "docs", "gen", "ttct_dev.asyncapi:app", "--out", str(out)],
                   cwd=tmp_path, check=True, capture_output=True, timeout=120)
    committed = json.loads((ROOT / "docs/events/asyncapi.json").read_text(encoding="utf-8"))
    assert json.loads(out.read_text(encoding="utf-8")) == committed


def test_asyncapi_has_every_event_on_its_subject_with_its_payload_in_the_envelope():
    document = docs.asyncapi_document()
    schemas = document["components"]["schemas"]
    for name, contract in EVENTS.items():
        channel = document["channels"][name]
        assert channel["address"] == f"ttct.{{province}}.{{centre}}.{contract.context}.{name}"
        assert PUBLISHES[contract.context] in channel["description"]
        envelope = schemas[f"{name}Envelope"]
        assert set(envelope["properties"]) == set(Envelope.model_fields)
        assert envelope["properties"]["event_type"]["const"] == name
        assert envelope["properties"]["payload"]["$ref"] == f"#/components/schemas/{name}"
        assert set(schemas[name]["properties"]) == set(contract.model_fields)
        assert document["operations"][name]["action"] == "send"


def test_asyncapi_has_every_durable_consumer_of_every_service():
    document = docs.asyncapi_document()
    consumers = {(reader, context) for reader, contexts in READS.items() for context in contexts}
    received = {tuple(key.split("/")) for key, op in document["operations"].items() if op["action"] == "receive"}
    assert received == consumers
    for reader, context in consumers:
        channel = document["channels"][f"{reader}.{context}"]
        assert channel["address"] == f"ttct.{{province}}.*.{context}.>"
        assert f"`{reader}-{{province}}`" in channel["description"] and PUBLISHES[context] in channel["description"]


def test_the_documented_subject_is_the_one_an_envelope_is_published_on():
    from ttct_dev.asyncapi import event_subject

    for name, contract in EVENTS.items():
        envelope = Envelope.model_validate_json((SAMPLES / f"{name}.v{contract.schema_version}.json").read_bytes())
        assert envelope.subject == event_subject(contract, envelope.province, envelope.centre)


def test_a_service_whose_app_cannot_be_built_fails_the_check_by_name(tmp_path):
    problems = docs.check(tmp_path, services=("no_such_service",))
    assert any(p.startswith("no_such_service: its app cannot be built") and "ModuleNotFoundError" in p
               for p in problems), problems


def test_write_adds_a_snapshot_for_a_new_version_but_never_rewrites_a_published_one(tmp_path):
    schemas = tmp_path / "docs/events/schemas"
    schemas.mkdir(parents=True)
    published = ClassOpened.model_json_schema()
    published["description"] = "as first published"
    current = f"ClassOpened.v{ClassOpened.schema_version}"
    (schemas / f"{current}.json").write_text(json.dumps(published), encoding="utf-8")

    assert docs.write(tmp_path, services=(), out=sys.stderr) == []

    assert json.loads((schemas / f"{current}.json").read_text(encoding="utf-8")) == published
    assert {p.name for p in schemas.iterdir()} == {f"{n}.v{c.schema_version}.json" for n, c in EVENTS.items()}
    assert docs.check(tmp_path, services=()) == []


def test_write_and_check_refuse_a_breaking_change_to_a_published_version(tmp_path):
    schemas = tmp_path / "docs/events/schemas"
    schemas.mkdir(parents=True)
    published = ClassOpened.model_json_schema()
    published["properties"]["room"] = {"type": "string"}
    current = f"ClassOpened.v{ClassOpened.schema_version}"
    (schemas / f"{current}.json").write_text(json.dumps(published), encoding="utf-8")

    for problems in (docs.write(tmp_path, services=(), out=sys.stderr), docs.check(tmp_path, services=())):
        assert len(problems) == 1 and current in problems[0] and "`room`" in problems[0], problems


def _service(paths: dict, schemas: dict, title: str = "S") -> dict:
    return {"openapi": "3.1.0", "info": {"title": title, "version": "1"}, "paths": paths,
            "components": {"schemas": schemas}}


def _get(operation_id: str, ref: str) -> dict:
    return {"get": {"operationId": operation_id, "responses": {"200": {"content": {
        "application/json": {"schema": {"$ref": ref}}}}}}}


def test_the_gateway_merges_components_and_renames_those_that_differ_with_what_refers_to_them():
    item = {"type": "object", "properties": {"id": {"type": "string"}}}
    a = _service({"/v1/a": _get("a", "#/components/schemas/View")},
                 {"View": {"$ref": "#/components/schemas/Item"}, "Item": item, "Shared": {"type": "string"}})
    b = _service({"/v1/b": _get("b", "#/components/schemas/View")},
                 {"View": {"$ref": "#/components/schemas/Item"}, "Item": {"type": "integer"},
                  "Shared": {"type": "string"}})

    gateway = docs.gateway_document({"alpha": a, "beta": b})

    schemas = gateway["components"]["schemas"]
    assert set(schemas) == {"View", "Item", "Shared", "BetaView", "BetaItem"}
    assert schemas["BetaView"] == {"$ref": "#/components/schemas/BetaItem"}
    assert schemas["Item"] == item
    ref = gateway["paths"]["/v1/b"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/BetaView"
    assert gateway["paths"]["/v1/a"]["x-ttct-service"] == "alpha"
    assert gateway["paths"]["/v1/b"]["x-ttct-service"] == "beta"


def test_the_gateway_refuses_a_path_two_services_serve():
    a = _service({"/v1/x": _get("x", "#/components/schemas/A")}, {"A": {"type": "string"}})
    b = _service({"/v1/x": {"post": {"operationId": "other", "responses": {}}}}, {})
    with pytest.raises(docs.GatewayConflict, match="/v1/x is served by both alpha and beta"):
        docs.gateway_document({"alpha": a, "beta": b})


def test_the_committed_gateway_routes_every_path_of_every_service_to_it():
    gateway = json.loads((ROOT / "docs/api/gateway.openapi.json").read_text(encoding="utf-8"))
    for path in (ROOT / "docs/api").glob("*.openapi.json"):
        if path.name == "gateway.openapi.json":
            continue
        service = path.name.removesuffix(".openapi.json")
        for route in json.loads(path.read_text(encoding="utf-8"))["paths"]:
            assert gateway["paths"][route]["x-ttct-service"] == service
