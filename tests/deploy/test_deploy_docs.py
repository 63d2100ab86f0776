"""docs/operations.md, "Deploying to a cluster": the prerequisites it lists for each profile are those of
deploy/helm/prerequisites/ in the same order; every Secret and ConfigMap there has a command that makes it; the
files and object names its commands use are the ones the repository and the chart (release "ttct" in namespace
"ttct", as in the docs) actually have."""
from __future__ import annotations

import re

import pytest
import yaml
from deploy_chart import CHART, PREREQUISITES, PROFILES, ROOT, Prerequisites, render, render_profile

pytestmark = pytest.mark.deploy

HEADINGS = {"default": "**The default profile**", "single-centre": "**The single-centre profile**",
            "province": "**The province profile**"}


def _section() -> str:
    text = (ROOT / "docs" / "operations.md").read_text()
    start = text.index("## Deploying to a cluster")
    following = text.find("\n## ", start + 1)
    return text[start: following if following != -1 else None]


def _numbered_list_after(heading: str) -> list[str]:
    rest = _section().split(heading, 1)[1]
    items = []
    for line in rest.splitlines()[1:]:
        if match := re.match(r"^\d+\. (.*)$", line):
            items.append(match[1])
        elif items and not line.strip():
            break
    return items


@pytest.mark.parametrize("profile", PROFILES)
def test_the_docs_list_each_profiles_prerequisites_in_order(profile):
    prerequisites = Prerequisites.load(profile, "ttct", "ttct")
    assert _numbered_list_after(HEADINGS[profile]) == [step["step"] for step in prerequisites.steps]
    expected = [f"deploy/helm/ttct/{p.name}" for p in [CHART / v.split("/")[-1] for v in prerequisites.values_files]]
    assert expected == prerequisites.values_files


@pytest.mark.parametrize("profile", PROFILES)
def test_every_listed_secret_and_config_map_has_a_command_that_makes_it(profile):
    section = _section()
    raw = yaml.safe_load((PREREQUISITES / f"{profile}.yaml").read_text())
    for step in raw["steps"]:
        for kind in ("secret", "configMap"):
            if kind not in step:
                continue
            name = step[kind]["name"].replace("{fullname}", "ttct").replace("{nats}", "ttct-nats")
            name = name.replace("{each}", "$user" if "admin" in step.get("each", []) else "$service")
            made = f"secret generic {name}" if kind == "secret" else f"name: {name}"
            assert made in section or f"secretName: {name}" in section, (profile, name)
            for key in step[kind]["keys"]:
                assert key in section, (profile, name, key)


def test_every_repository_path_in_the_section_exists():
    section = _section()
    paths = set(re.findall(r"\b((?:docker|deploy/helm|tests/deploy|docs|tools)/[\w./-]*\w)", section))
    assert "deploy/helm/ttct/values-single-centre.yaml" in paths and "deploy/helm/prerequisites" in section
    missing = [p for p in sorted(paths) if not (ROOT / p).exists() and "<" not in p]
    assert missing == []


def test_the_object_names_the_commands_use_are_rendered():
    section = _section()
    province = render_profile("province")
    names = {(o["kind"], o["metadata"]["name"]) for o in province.objects}
    for service in ("scheduling", "enrolment", "assessment", "notification"):
        assert ("Deployment", f"ttct-{service}") in names and ("Service", f"ttct-{service}") in names
    assert "deployment/ttct-$service" in section and "svc/ttct-scheduling" in section
    assert ("Job", "ttct-topology") in names and "job/ttct-topology" in section
    assert ("ObjectStore", "ttct-backups") in names and ("ObjectStore", "ttct-key-vault-backups") in names
    assert "ttct-backups" in section and "ttct-key-vault-backups" in section
    # The Gateway the docs create is the one the province's HTTPRoute attaches to.
    for route in province.of("HTTPRoute"):  # the API's and the console's
        (parent,) = route["spec"]["parentRefs"]
        assert f"metadata: {{name: {parent['name']}, namespace: {parent['namespace']}}}" in section
        assert f"- name: {parent['sectionName']}" in section
    # The default profile's Secrets are the ones its Deployments read.
    default = render({}, "ttct", "ttct")
    refs = {name for pod in default.pods() for name, _ in pod.secret_refs()}
    assert {f"ttct-{s}-database" for s in ("scheduling", "enrolment", "assessment", "notification")} <= refs
    assert "ttct-$service-database" in section and "secret generic ttct-key-vault" in section


def test_the_documented_timeouts_are_the_charts():
    section = _section()
    (job,) = render_profile("province").of("Job")
    assert f"up to {job['spec']['backoffLimit']} times within {job['spec']['activeDeadlineSeconds'] // 60} minutes" \
        in section
    deployment = render_profile("province").get("Deployment", "ttct-scheduling")
    startup = deployment["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    assert f"allows {startup['periodSeconds'] * startup['failureThreshold']} s" in section
