"""docs/operations.md, "Deploying to a cluster": the files and object names its commands use are the ones the
repository and the chart (rendered as release "ttct" in namespace "ttct", as in the docs) actually have."""
from __future__ import annotations

import re
from pathlib import Path

import helm_python as helm
import pytest
import yaml

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "ttct"


def _section() -> str:
    text = (ROOT / "docs" / "operations.md").read_text()
    start = text.index("## Deploying to a cluster")
    following = text.find("\n## ", start + 1)
    return text[start: following if following != -1 else None]


def _rendered_objects(values: dict) -> list[dict]:
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name="ttct", namespace="ttct", is_install=True)
    return [d for template, text in manifests.items()
            if not template.endswith("NOTES.txt") for d in yaml.safe_load_all(text) if d]


def _rendered_names(values: dict) -> set[tuple[str, str]]:
    return {(d["kind"], d["metadata"]["name"]) for d in _rendered_objects(values)}


def test_every_repository_path_in_the_section_exists():
    paths = set(re.findall(r"\b((?:docker|deploy/helm/ttct|tests/deploy|docs)/[\w./-]*\w)", _section()))
    paths |= {p for p in re.findall(r"`([\w.-]+\.txt)`", _section())}
    assert "deploy/helm/ttct/values-single-centre.yaml" in paths
    missing = [p for p in sorted(paths) if not (ROOT / p).exists() and not p.endswith("Chart.lock")]
    assert missing == []


def test_the_object_names_the_commands_use_are_rendered():
    section = _section()
    default = _rendered_names({})
    for service in ("scheduling", "enrolment", "assessment", "notification"):
        assert ("Deployment", f"ttct-{service}") in default and ("Service", f"ttct-{service}") in default
    assert "deployment/ttct-$service" in section and "svc/ttct-scheduling" in section
    assert ("Job", "ttct-topology") in default and "job/ttct-topology" in section
    # The Secret names the docs create are the ones the Deployments read.
    assert "ttct-$service-database" in section
    secret_refs = set()
    with helm.Chart.load(CHART) as chart:
        for text in chart.render({}, name="ttct", namespace="ttct").values():
            secret_refs |= set(re.findall(r"name: (ttct-\w+-database)", text))
    assert secret_refs == {f"ttct-{s}-database" for s in ("scheduling", "enrolment", "assessment", "notification")}
    cnpg = _rendered_names({"postgresql": {"cnpg": {"enabled": True}}})
    assert ("Cluster", "ttct-scheduling-db") in cnpg and "ttct-<service>-db-app" in section


def test_the_province_prerequisites_match_the_province_values():
    section = _section()
    values = yaml.safe_load((CHART / "values-province.yaml").read_text())
    # NATS: one user per service plus admin. The passwords Secret the NATS container reads (values.yaml's nats
    # wiring, kept by the example) and the per-user URL Secrets the services and the Job read are those the docs
    # create, with URLs naming the user and the bundled NATS's Service.
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    assert "env" not in values["nats"].get("container", {})
    password_secrets = {e["valueFrom"]["secretKeyRef"]["name"] for e in defaults["nats"]["container"]["env"].values()}
    assert password_secrets == {"ttct-nats-passwords"} and "secret generic ttct-nats-passwords" in section
    url_secrets = {e["valueFrom"]["secretKeyRef"]["name"]
                   for d in _rendered_objects(values) if d["kind"] in ("Deployment", "Job")
                   for e in d["spec"]["template"]["spec"]["containers"][0]["env"] if e["name"] == "NATS_URL"}
    assert url_secrets == {f"ttct-nats-{u}" for u in ("admin", "scheduling", "enrolment", "assessment", "notification")}
    assert "secret generic ttct-nats-$user" in section and "for user in admin scheduling enrolment assessment notification" in section
    assert values["nats"]["config"]["nats"]["tls"]["secretName"] == "ttct-nats-tls" and "secretName: ttct-nats-tls" in section
    assert values["mounts"][0]["configMapName"] == "ttct-trust" and "name: ttct-trust" in section
    assert values["env"]["SSL_CERT_FILE"].endswith("/ca-certificates.crt") and "key: ca-certificates.crt" in section
    # The URL in the Secret points at the bundled NATS's Service, which the chart names ttct-nats.
    names = _rendered_names(values)
    assert ("Deployment", "ttct-notification") in names
    assert "tls://$user:$password@ttct-nats.ttct.svc:4222" in section
