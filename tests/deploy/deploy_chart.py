"""The chart as the deploy tests see it: a profile rendered by the Helm SDK under a release name, its objects, and
the prerequisites file that says what must exist before it is installed (deploy/helm/prerequisites/).

A Chart is loaded afresh for every render: Helm removes a disabled subchart from a loaded chart for good, so a
chart that once rendered with nats.enabled=false would render every later profile without NATS.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "ttct"
PREREQUISITES = ROOT / "deploy" / "helm" / "prerequisites"
PROFILES = ("default", "single-centre", "province")
VALUES_FILES = {"default": None, "single-centre": CHART / "values-single-centre.yaml",
                "province": CHART / "values-province.yaml"}
ROUTES = json.loads((CHART / "files" / "api-routes.json").read_text())["services"]


def profile_values(profile: str) -> dict[str, Any]:
    path = VALUES_FILES[profile]
    return yaml.safe_load(path.read_text()) if path else {}


def chart_values() -> dict[str, Any]:
    return yaml.safe_load((CHART / "values.yaml").read_text())


def merged(base: Any, over: Any) -> Any:
    """Helm's coalescing of values: maps merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: merged(base.get(k), v) for k, v in over.items()}}
    return over


def fullname(release: str) -> str:
    """templates/_helpers.tpl, ttct.fullname."""
    return (release if "ttct" in release else f"{release}-ttct")[:40].rstrip("-")


def nats_fullname(release: str) -> str:
    """The NATS chart's nats.fullname with no name override."""
    return (release if "nats" in release else f"{release}-nats")[:63].rstrip("-")


def render(values: dict[str, Any], release: str = "ttct", namespace: str = "ttct") -> Rendered:
    manifests = helm.Chart.load(CHART).render(values, name=release, namespace=namespace, is_install=True)
    objects = []
    for template, text in sorted(manifests.items()):
        if template.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                document.setdefault("metadata", {})
                objects.append({**document, "_template": template})
    return Rendered(release, namespace, merged(chart_values(), values), objects)


@functools.cache
def _rendered_profile(profile: str, release: str, namespace: str) -> Rendered:
    return render(profile_values(profile), release, namespace)


def render_profile(profile: str, release: str = "ttct", namespace: str = "ttct") -> Rendered:
    return _rendered_profile(profile, release, namespace)


@dataclass(frozen=True)
class Pod:
    """A pod template of a rendered workload, with what its containers read: env, envFrom and volumes."""

    owner: dict[str, Any]
    component: str

    @property
    def spec(self) -> dict[str, Any]:
        return self.owner["spec"]["template"]["spec"]

    @property
    def labels(self) -> dict[str, str]:
        return self.owner["spec"]["template"]["metadata"].get("labels", {})

    @property
    def name(self) -> str:
        return self.owner["metadata"]["name"]

    @property
    def replicas(self) -> int:
        return self.owner["spec"].get("replicas", 1) if self.owner["kind"] != "Job" else 1

    def containers(self) -> list[dict[str, Any]]:
        return self.spec.get("initContainers", []) + self.spec["containers"]

    def secret_refs(self) -> set[tuple[str, str | None]]:
        """(Secret, key or None for all of it) for every Secret the pod reads."""
        return self._refs("secret")

    def config_map_refs(self) -> set[tuple[str, str | None]]:
        return self._refs("configMap")

    def _refs(self, kind: str) -> set[tuple[str, str | None]]:
        key_ref, env_from = f"{kind}KeyRef", f"{kind}Ref"
        refs: set[tuple[str, str | None]] = set()
        for container in self.containers():
            for env in container.get("env", []):
                if ref := env.get("valueFrom", {}).get(key_ref):
                    refs.add((ref["name"], ref["key"]))
            for source in container.get("envFrom", []):
                if ref := source.get(env_from):
                    refs.add((ref["name"], None))
        for volume in self.spec.get("volumes", []):
            source = volume.get("secret" if kind == "secret" else "configMap")
            if source:
                name = source.get("secretName") or source.get("name")
                refs |= {(name, item["key"]) for item in source.get("items", [])} or {(name, None)}
        return refs


@dataclass
class Rendered:
    release: str
    namespace: str
    values: dict[str, Any]  # values.yaml coalesced with the profile's
    objects: list[dict[str, Any]]

    @property
    def fullname(self) -> str:
        return fullname(self.release)

    @property
    def nats(self) -> str:
        return nats_fullname(self.release)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        (found,) = [o for o in self.of(kind) if o["metadata"]["name"] == name]
        return found

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        found = [o for o in self.of(kind) if o["metadata"]["name"] == name]
        return found[0] if found else None

    def pods(self) -> list[Pod]:
        return [Pod(o, o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component", ""))
                for o in self.objects if o["kind"] in ("Deployment", "StatefulSet", "Job")]

    def services(self) -> list[str]:
        """The chart's own services (each a Deployment), by component name."""
        return sorted(p.component for p in self.pods() if p.owner["kind"] == "Deployment")


# --------------------------------------------------------------------------------------------------------------
# Prerequisites
# --------------------------------------------------------------------------------------------------------------

@dataclass
class Prerequisites:
    """deploy/helm/prerequisites/<profile>.yaml with the names of one release filled in."""

    profile: str
    steps: list[dict[str, Any]]
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {keys, dnsNames?}
    config_maps: dict[str, dict[str, Any]] = field(default_factory=dict)
    outside: list[dict[str, Any]] = field(default_factory=list)
    clients: list[dict[str, Any]] = field(default_factory=list)
    crds: list[str] = field(default_factory=list)
    values_files: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, profile: str, release: str = "ttct", namespace: str = "ttct") -> Prerequisites:
        raw = yaml.safe_load((PREREQUISITES / f"{profile}.yaml").read_text())
        names = {"fullname": fullname(release), "nats": nats_fullname(release), "namespace": namespace}
        fill = functools.partial(_fill, names=names)
        found = cls(profile, fill(raw["steps"]), outside=fill(raw.get("outside", [])),
                    clients=fill(raw.get("clients", [])), values_files=raw.get("values", []))
        for step in found.steps:
            for each in step.get("each", [None]):
                entry = _fill(step, {"each": each}) if each else step
                if "secret" in entry:
                    found.secrets[entry["secret"]["name"]] = entry["secret"]
                if "configMap" in entry:
                    found.config_maps[entry["configMap"]["name"]] = entry["configMap"]
            found.outside += step.get("outside", [])
            found.crds += step.get("crds", [])
        return found


def _fill(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, str):
        return re.sub(r"\{(\w+)\}", lambda m: names.get(m[1], m[0]), node)
    if isinstance(node, list):
        return [_fill(n, names) for n in node]
    if isinstance(node, dict):
        return {_fill(k, names): _fill(v, names) for k, v in node.items()}
    return node
