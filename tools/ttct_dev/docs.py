"""The generated documents in docs/: `python -m ttct_dev.docs write` writes them, `… check` fails when one is stale.

- docs/events/asyncapi.json: FastStream's AsyncAPI document of `ttct_dev.asyncapi:app`, from the generator that
  `faststream docs gen ttct_dev.asyncapi:app --out docs/events/asyncapi.json` calls; the same document, with its
  channels, operations and components sorted by name (FastStream's own order varies from run to run).
- docs/events/schemas/<EventType>.v<N>.json: the JSON schema of each published event version. Written once,
  when the version first appears, and never again: it is the contract readers rely on. The current model must
  stay compatible with the snapshot of its version (`ttct_dev.compat`); a breaking change needs a new version.
- docs/api/<service>.openapi.json: each service's OpenAPI document, from its `create_app` (no servers needed),
  and docs/api/gateway.openapi.json: all of them in one document, for a province's API gateway.
- deploy/helm/ttct/files/api-routes.json: the Helm chart's routes (HTTPRoute, Ingress), each public path to the
  service that owns it, derived from the same documents (`ttct_dev.routes`).
"""
from __future__ import annotations

import argparse
import copy
import importlib
import json
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ttct_dev import routes
from ttct_dev.compat import breaking_changes
from ttct_dev.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
EVENTS_DIR, SCHEMAS_DIR, API_DIR = Path("docs/events"), Path("docs/events/schemas"), Path("docs/api")
COMMAND = "python -m ttct_dev.docs write"

DOCS_SETTINGS: dict[str, str] = {
    # Enough to construct any service's settings: nothing connects while the app is only built.
    "database_url": "postgresql://docs@localhost/docs",
    "province_code": "province",
    "auth_jwks_url": "https://identity.invalid/.well-known/jwks.json",
}


def _json(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def asyncapi_document() -> dict:
    """What `faststream docs gen ttct_dev.asyncapi:app` writes, `to_jsonable()` of the app's specification, in a
    stable order: FastStream keeps a broker's subscribers and publishers in a WeakSet, so theirs varies."""
    from ttct_dev.asyncapi import app

    document = app.schema.to_specification().to_jsonable()
    for parent, key in ((document, "channels"), (document, "operations"),
                        (document.get("components", {}), "messages"), (document.get("components", {}), "schemas")):
        if key in parent:
            parent[key] = dict(sorted(parent[key].items()))
    return document


def event_schemas() -> dict[str, dict]:
    """The current JSON schema of every event, by snapshot file name."""
    from ttct.contracts import EVENTS

    return {f"{name}.v{c.schema_version}.json": c.model_json_schema() for name, c in EVENTS.items()}


def build_app(service: str) -> Any:
    """The service's FastAPI app from `<service>.bootstrap.create_app`, with settings of its own class."""
    create_app = importlib.import_module(f"{service}.bootstrap").create_app
    settings_class = next(iter(typing.get_type_hints(create_app).values()))
    return create_app(settings_class(**DOCS_SETTINGS))


def openapi_documents(services: typing.Iterable[str] = SERVICES) -> tuple[dict[str, dict], dict[str, str]]:
    """Each service's OpenAPI document, and why a service's could not be built."""
    documents, failures = {}, {}
    for service in services:
        try:
            documents[service] = build_app(service).openapi()
        except Exception as exc:  # noqa: BLE001  # reported by name, never hidden
            failures[service] = f"{type(exc).__name__}: {exc}"
    return documents, failures


class GatewayConflict(ValueError):
    pass


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: renames.get(v, v) if k == "$ref" and isinstance(v, str) else _rename_refs(v, renames)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def _conflicting_components(service: str, document: dict, merged: dict[str, dict]) -> dict[str, str]:
    """$ref renames for the service's components that differ from same-named ones already merged; repeated
    until none is left, since renaming one changes the components that refer to it."""
    renames: dict[str, str] = {}
    while True:
        renamed = _rename_refs(document.get("components", {}), renames)
        found = {
            f"#/components/{section}/{name}": f"#/components/{section}/{service.title()}{name}"
            for section, entries in renamed.items() for name, entry in entries.items()
            if f"#/components/{section}/{name}" not in renames and merged.get(section, {}).get(name, entry) != entry
        }
        if not found:
            return renames
        if clash := [ref for ref in found if ref.startswith("#/components/securitySchemes/")]:
            # Security requirements name their schemes without a $ref, so a scheme cannot be renamed.
            raise GatewayConflict(f"{service} defines {', '.join(clash)} unlike another service")
        renames.update(found)


def gateway_document(documents: dict[str, dict]) -> dict:
    """One OpenAPI document for a province gateway: the services' paths (which must be disjoint, so the gateway
    routes by path; `x-ttct-service` names the upstream), their components merged, same-named but different
    components renamed `<Service><Name>`, and each service's global security moved onto its operations."""
    merged: dict[str, Any] = {"paths": {}, "components": {}}
    owners: dict[str, str] = {}
    tags: dict[str, dict] = {}
    operation_ids: dict[str, str] = {}
    versions = {doc["openapi"] for doc in documents.values()}
    if len(versions) > 1:
        raise GatewayConflict(f"the services use different OpenAPI versions: {sorted(versions)}")
    for service, document in documents.items():
        renames = _conflicting_components(service, document, merged["components"])
        document = _rename_refs(copy.deepcopy(document), renames)
        for section, entries in document.get("components", {}).items():
            for name, entry in entries.items():
                key = renames.get(f"#/components/{section}/{name}", f"/{name}").rsplit("/", 1)[1]
                merged["components"].setdefault(section, {})[key] = entry
        for path, item in document.get("paths", {}).items():
            if path in owners:
                raise GatewayConflict(f"{path} is served by both {owners[path]} and {service}")
            owners[path] = service
            for method, operation in item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                if "security" in document and "security" not in operation:
                    operation["security"] = document["security"]
                op_id = operation.get("operationId")
                if op_id in operation_ids:
                    raise GatewayConflict(f"operationId {op_id} is used by {operation_ids[op_id]} and {service}")
                operation_ids[op_id] = f"{service} {method.upper()} {path}"
            merged["paths"][path] = {"x-ttct-service": service, **item}
        for tag in document.get("tags", ()):
            tags.setdefault(tag["name"], tag)
    info = [f"- **{d['info']['title']}** (`{s}`, version {d['info']['version']}): {d['info'].get('description', '')}"
            for s, d in documents.items()]
    gateway: dict[str, Any] = {
        "openapi": versions.pop() if versions else "3.1.0",
        "info": {
            "title": "Training-centre system: province API gateway",
            "version": "+".join(sorted({d["info"]["version"] for d in documents.values()})) or "0",
            "description": "Every service's API in one document; `x-ttct-service` on a path names the service that "
                           "serves it.\n\n" + "\n".join(info),
        },
    }
    if tags:
        gateway["tags"] = list(tags.values())
    gateway["paths"] = merged["paths"]
    if merged["components"]:
        gateway["components"] = merged["components"]
    return gateway


def _expected(services: typing.Iterable[str]) -> tuple[dict[Path, str], list[str]]:
    """Every regenerated file by path (snapshots aside), and what kept some from being generated."""
    files = {EVENTS_DIR / "asyncapi.json": _json(asyncapi_document())}
    documents, failures = openapi_documents(services)
    problems = [f"{service}: its app cannot be built, so {API_DIR / f'{service}.openapi.json'} and the gateway "
                f"document cannot be generated ({why})" for service, why in failures.items()]
    for service, document in documents.items():
        files[API_DIR / f"{service}.openapi.json"] = _json(document)
    if not failures:  # a gateway document without one of the services would be wrong, not merely stale
        try:
            files[API_DIR / "gateway.openapi.json"] = _json(gateway_document(documents))
            files[Path(routes.ROUTES_FILE)] = _json(routes.derive(documents))
        except (GatewayConflict, routes.RouteConflict) as exc:
            problems.append(f"gateway and routes: {exc}")
    return files, problems


def _snapshot_problems(root: Path, on_missing: Callable[[Path, dict], str | None]) -> list[str]:
    problems = []
    for name, schema in event_schemas().items():
        path = root / SCHEMAS_DIR / name
        if not path.exists():
            if problem := on_missing(path, schema):
                problems.append(problem)
            continue
        snapshot = json.loads(path.read_text(encoding="utf-8"))
        problems += [f"{name.removesuffix('.json')} breaks its published schema: {change}. Raise the event's "
                     "schema_version and add an upcaster from the old version instead."
                     for change in breaking_changes(snapshot, schema)]
    return problems


def write(root: Path = ROOT, services: typing.Iterable[str] = SERVICES,
          out: typing.TextIO = sys.stdout) -> list[str]:
    """Write every generated document that changed and every new event version's snapshot; the problems."""
    files, problems = _expected(services)
    for relative, text in files.items():
        path = root / relative
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {relative}", file=out)

    def add_snapshot(path: Path, schema: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_json(schema), encoding="utf-8")
        print(f"wrote {path.relative_to(root)} (new event version)", file=out)

    return problems + _snapshot_problems(root, add_snapshot)


def check(root: Path = ROOT, services: typing.Iterable[str] = SERVICES) -> list[str]:
    """Why the documents in `root` are not what `write` would write now; [] when they are current."""
    files, problems = _expected(services)
    for relative, text in files.items():
        path = root / relative
        if not path.exists():
            problems.append(f"{relative} is missing: run `{COMMAND}`")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{relative} is out of date: run `{COMMAND}`")
    return problems + _snapshot_problems(
        root, lambda path, _schema: f"{path.relative_to(root)} is missing (a new event version): run `{COMMAND}`")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ttct_dev.docs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this checkout)")
    args = parser.parse_args(argv)
    problems = write(args.root) if args.command == "write" else check(args.root)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if args.command == "check" and not problems:
        print("docs/events, docs/api and the chart's routes are current")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
