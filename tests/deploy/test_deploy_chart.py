"""The Helm chart (deploy/helm/ttct), linted and rendered by the real Helm v4 SDK (helm-python-sdk, no helm binary
and no cluster), for the default values and both example values files. Every rendered object is validated
strictly: Kubernetes kinds with kubernetes-validate's schemas, the two custom resources (CloudNativePG Cluster,
Prometheus Operator ServiceMonitor) with the hand-written schemas in crd_schemas/. Then the properties an
operator relies on are asserted on every object: security context, probes, wiring between objects.

The NATS subchart is declared in Chart.yaml but not vendored (no network here): rendering works without it (its
objects are simply absent) and lint reports it as a missing dependency, the only finding these tests accept.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
import yaml

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "ttct"
CRD_SCHEMAS = Path(__file__).with_name("crd_schemas")
RELEASE, NAMESPACE = "ttct", "ttct"
SERVICES = ("scheduling", "enrolment", "assessment", "notification")
# The oldest Kubernetes minor the chart is tested for, and the newest kubernetes-validate knows.
KUBE_VERSIONS = ("1.33.0", kubernetes_validate.latest_version())
MISSING_NATS = "chart directory is missing these dependencies: nats"

EXAMPLES = {
    "default": None,
    "single-centre": CHART / "values-single-centre.yaml",
    "province": CHART / "values-province.yaml",
}
# Switches everything optional on, on top of the defaults, so each template renders at least once.
EVERYTHING = {
    "ingress": {"enabled": True, "hosts": ["api.example.vn"], "className": "nginx"},
    "serviceMonitor": {"enabled": True},
    "postgresql": {"cnpg": {"enabled": True, "services": {"notification": {"instances": 1}}}},
    "telemetry": {"otlp": {"endpoint": "http://collector.observability:4317", "protocol": "grpc"}},
    "secretEnv": {"SMTP_PASSWORD": {"secretName": "smtp", "key": "password"}},
    "mounts": [{"name": "nats-ca", "mountPath": "/etc/ttct/nats", "secretName": "nats-ca"}],
    "natsConnection": {"networkPolicyPeers": [{"ipBlock": {"cidr": "10.30.0.0/24"}}]},
    "serviceDefaults": {"autoscaling": {"enabled": True}},
    "services": {"assessment": {"enabled": False},
                 "notification": {"podDisruptionBudget": {"enabled": False},
                                  "natsConnection": {"secretName": "notices-nats", "secretKey": "uri"}}},
    "topology": {"service": "enrolment", "natsConnection": {"secretName": "ops-nats-admin"}},
}
SCENARIOS = [*EXAMPLES, "everything"]


def values_for(scenario: str) -> dict[str, Any]:
    if scenario == "everything":
        return json.loads(json.dumps(EVERYTHING))
    path = EXAMPLES[scenario]
    return yaml.safe_load(path.read_text()) if path else {}


@functools.cache
def _chart() -> helm.Chart:
    return helm.Chart.load(CHART)


def render(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    manifests = _chart().render(values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects = []
    for template, text in sorted(manifests.items()):
        if template.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                document.setdefault("metadata", {}).setdefault("annotations", {})
                objects.append({**document, "_template": template})
    return objects


@functools.cache
def _rendered(scenario: str) -> tuple[dict[str, Any], ...]:
    return tuple(render(values_for(scenario)))


def objects(scenario: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [o for o in _rendered(scenario) if kind is None or o["kind"] == kind]


def by_name(scenario: str, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects(scenario, kind)}


def manifest(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the API server gets it (our bookkeeping key dropped, empty annotations too)."""
    clean = {k: v for k, v in obj.items() if k != "_template"}
    if not clean["metadata"].get("annotations"):
        clean["metadata"] = {k: v for k, v in clean["metadata"].items() if k != "annotations"}
    return clean


def enabled_services(scenario: str) -> list[str]:
    services = values_for(scenario).get("services", {})
    return [s for s in SERVICES if services.get(s, {}).get("enabled", True)]


# --------------------------------------------------------------------------------------------------------------
# Lint, render, validate
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", SCENARIOS)
def test_chart_lints_strictly(scenario):
    report = helm.lint(CHART, values_for(scenario), strict=True, namespace=NAMESPACE, kube_version="v1.33.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2 and m["error"] != MISSING_NATS]
    assert problems == [], problems
    assert [e for e in report["errors"] if e != MISSING_NATS] == []


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_object_validates_strictly(scenario):
    rendered = objects(scenario)
    assert rendered
    custom = {
        ("monitoring.coreos.com/v1", "ServiceMonitor"): CRD_SCHEMAS / "servicemonitor-monitoring.coreos.com-v1.json",
        ("postgresql.cnpg.io/v1", "Cluster"): CRD_SCHEMAS / "cluster-postgresql.cnpg.io-v1.json",
    }
    for obj in rendered:
        name = f"{obj['_template']}: {obj['kind']}/{obj['metadata'].get('name')}"
        schema_file = custom.get((obj["apiVersion"], obj["kind"]))
        if schema_file:
            jsonschema.validate(manifest(obj), json.loads(schema_file.read_text()),
                                cls=jsonschema.Draft202012Validator)
            continue
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(manifest(obj), version, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(f"{name} invalid for Kubernetes {version}: {error.message} at {list(error.path)}")


def test_kubernetes_validate_does_refuse_a_misspelt_field():
    """Guards the validation above: strict mode must catch a field Kubernetes would silently drop."""
    deployment = manifest(objects("default", "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesytem"] = True
    for version in KUBE_VERSIONS:
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(deployment, version, strict=True)


def test_the_custom_resource_schemas_do_refuse_unknown_fields():
    """Guards the validation above: a hand-written schema that accepted anything would prove nothing."""
    cluster = manifest(by_name("everything", "Cluster")["ttct-scheduling-db"])
    cluster["spec"]["instancez"] = 3
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(cluster, json.loads((CRD_SCHEMAS / "cluster-postgresql.cnpg.io-v1.json").read_text()))
    monitor = manifest(objects("everything", "ServiceMonitor")[0])
    monitor["spec"]["endpoints"][0]["intervall"] = "30s"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            monitor, json.loads((CRD_SCHEMAS / "servicemonitor-monitoring.coreos.com-v1.json").read_text()))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_one_set_of_objects_per_enabled_service(scenario):
    services = enabled_services(scenario)
    for kind in ("Deployment", "Service", "ConfigMap", "NetworkPolicy"):
        names = {n for n in by_name(scenario, kind) if n not in ("ttct-topology", "ttct-nats-auth")}
        assert names == {f"ttct-{s}" for s in services}, kind
    keys = [(o["kind"], o["metadata"]["name"]) for o in objects(scenario)]
    assert len(keys) == len(set(keys)), "two objects of one kind and name"
    assert all(o["metadata"]["namespace"] == NAMESPACE for o in objects(scenario))


# --------------------------------------------------------------------------------------------------------------
# Every Deployment (and the hook Job): security and probes
# --------------------------------------------------------------------------------------------------------------

def _pods(scenario: str) -> list[tuple[str, dict[str, Any]]]:
    pods = [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in objects(scenario, "Deployment")]
    pods += [(j["metadata"]["name"], j["spec"]["template"]["spec"]) for j in objects(scenario, "Job")]
    return pods


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_pod_runs_locked_down(scenario):
    pods = _pods(scenario)
    assert len(pods) == len(enabled_services(scenario)) + 1
    for name, pod in pods:
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["runAsUser"] > 0 and context["runAsGroup"] > 0, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC"), name
        tmp = [v for v in pod["volumes"] if v["name"] == "tmp"]
        assert tmp and "emptyDir" in tmp[0], name
        for container in pod["containers"] + pod.get("initContainers", []):
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["privileged"] is False, name
            assert security["capabilities"] == {"drop": ["ALL"]}, name
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, name
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name
            assert all(m.get("readOnly") for m in container["volumeMounts"] if m["name"] != "tmp"), name
            image = container["image"]
            repository, _, tag = image.split("@")[0].rpartition(":")
            assert repository and "/" not in tag and tag and tag.lower() != "latest", image
            assert container["resources"]["requests"] and container["resources"]["limits"]["memory"], name


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_deployment_probes_liveness_and_readiness(scenario):
    port = (values_for(scenario).get("http") or {}).get("port", 8080)
    for deployment in objects(scenario, "Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        expected = {"startupProbe": "/healthz/live", "livenessProbe": "/healthz/live",
                    "readinessProbe": "/healthz/ready"}
        for probe, path in expected.items():
            assert container[probe]["httpGet"] == {"path": path, "port": "http"}, (deployment["metadata"]["name"], probe)
            assert container[probe]["timeoutSeconds"] >= 1 and container[probe]["failureThreshold"] >= 1
        # The start-up probe must allow at least a minute for the schema migration before liveness counts.
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 60
        assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 25
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_deployment_gets_the_runtime_conventions(scenario):
    config_maps = by_name(scenario, "ConfigMap")
    values = values_for(scenario)
    cnpg = (values.get("postgresql") or {}).get("cnpg", {}).get("enabled", False)
    for deployment in objects(scenario, "Deployment"):
        name = deployment["metadata"]["name"]
        service = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["envFrom"] == [{"configMapRef": {"name": name}}]
        data = config_maps[name]["data"]
        assert data["HTTP_HOST"] == "0.0.0.0" and data["HTTP_PORT"] == str(container["ports"][0]["containerPort"])
        assert data["PROVINCE_CODE"] == values.get("province", "thanh-hoa")
        assert data["PROVISION"] == "false", "the topology Job creates the streams, not the services"
        assert data["OTEL_SERVICE_NAME"] == service
        env = {e["name"]: e for e in container["env"]}
        assert len(env) == len(container["env"]), "no variable twice"
        assert not set(env) & set(data), "a variable both in the ConfigMap and the container: which one wins?"
        database = env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert database == ({"name": f"{name}-db-app", "key": "uri"} if cnpg
                            else {"name": f"{name}-database", "key": "url"})
        # Each service connects to NATS as its own user: its URL, with that user's password, from its own Secret.
        assert "NATS_URL" not in data
        assert env["NATS_URL"]["valueFrom"]["secretKeyRef"] == nats_secret(scenario, service)
        assert "k8s.pod.name=$(POD_NAME)" in env["OTEL_RESOURCE_ATTRIBUTES"]["value"]
        # Secrets stay out of ConfigMaps.
        assert not any(k in data for k in ("DATABASE_URL", "NATS_PASSWORD", "NATS_USER"))
        # The pod template carries a hash of its configuration, so changing a setting rolls the pods.
        assert deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]


def nats_secret(scenario: str, user: str) -> dict[str, str]:
    """The Secret a service's (or, for "admin", the topology Job's) NATS_URL must come from, as the values say."""
    values = values_for(scenario)
    if user == "admin":
        conn = values.get("topology", {}).get("natsConnection", {})
    else:
        conn = {**values.get("serviceDefaults", {}).get("natsConnection", {}),
                **values.get("services", {}).get(user, {}).get("natsConnection", {})}
    return {"name": conn.get("secretName") or f"{RELEASE}-nats-{user}", "key": conn.get("secretKey") or "url"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_service_and_the_job_read_nats_url_from_their_own_secret(scenario):
    refs = {}
    for workload in objects(scenario, "Deployment") + objects(scenario, "Job"):
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        (nats_url,) = [e for e in container["env"] if e["name"] == "NATS_URL"]
        assert set(nats_url) == {"name", "valueFrom"}, "never a literal URL"
        refs[workload["metadata"]["labels"]["app.kubernetes.io/component"]] = nats_url["valueFrom"]["secretKeyRef"]
    users = [*enabled_services(scenario), "topology"]
    assert set(refs) == set(users)
    assert refs.pop("topology") == nats_secret(scenario, "admin")
    for service, ref in refs.items():
        assert ref == nats_secret(scenario, service)
    names = [ref["name"] for ref in refs.values()]
    assert len(set(names)) == len(names), "two services share a NATS user"


def test_a_changed_setting_rolls_only_that_service():
    def checksums(values):
        return {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
                for d in render(values) if d["kind"] == "Deployment"}
    before = checksums({})
    after = checksums({"services": {"notification": {"env": {"WEBHOOK_TIMEOUT": "10"}}}})
    assert {n for n in before if before[n] != after[n]} == {"ttct-notification"}


# --------------------------------------------------------------------------------------------------------------
# Wiring between objects
# --------------------------------------------------------------------------------------------------------------

def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        if expression["operator"] == "In" and labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_services_select_their_own_pods_only(scenario):
    deployments = objects(scenario, "Deployment")
    for service in objects(scenario, "Service"):
        selected = [d["metadata"]["name"] for d in deployments
                    if _selects({"matchLabels": service["spec"]["selector"]},
                                d["spec"]["template"]["metadata"]["labels"])]
        assert selected == [service["metadata"]["name"]]
        assert service["spec"]["ports"][0]["targetPort"] == "http"
    for deployment in deployments:
        assert _selects(deployment["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_autoscaled_deployments_leave_replicas_to_the_hpa(scenario):
    deployments = by_name(scenario, "Deployment")
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in objects(scenario, "HorizontalPodAutoscaler")}
    assert scaled <= set(deployments)
    for name, deployment in deployments.items():
        assert ("replicas" in deployment["spec"]) == (name not in scaled), name
    for pdb in objects(scenario, "PodDisruptionBudget"):
        assert _selects(pdb["spec"]["selector"],
                        deployments[pdb["metadata"]["name"]]["spec"]["template"]["metadata"]["labels"])


def test_province_scales_and_spreads():
    deployments = by_name("province", "Deployment")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in objects("province", "HorizontalPodAutoscaler")} == {
        "ttct-enrolment", "ttct-assessment", "ttct-notification"}
    assert deployments["ttct-scheduling"]["spec"]["replicas"] == 2
    for name, deployment in deployments.items():
        constraints = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert [c["topologyKey"] for c in constraints] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
        for constraint in constraints:  # filled in by the chart: each service spreads its own pods
            assert _selects(constraint["labelSelector"], deployment["spec"]["template"]["metadata"]["labels"])
    assert {c["spec"]["instances"] for c in objects("province", "Cluster")} == {3}


def test_each_database_has_the_application_role_row_level_security_needs():
    """Each service logs in as its database's owner and runs its statements as DATABASE_APP_ROLE, which must exist,
    log in never, bypass row-level security never, and have the owner as a member (docs/security.md)."""
    config = {c["metadata"]["name"]: c["data"] for c in objects("everything", "ConfigMap")}
    for cluster in objects("everything", "Cluster"):
        owner = cluster["spec"]["bootstrap"]["initdb"]["owner"]
        roles = {r["name"]: r for r in cluster["spec"]["managed"]["roles"]}
        app = roles["ttct_app"]
        assert app["ensure"] == "present" and not app["login"] and not app["superuser"] and not app["bypassrls"]
        assert roles[owner]["inRoles"] == ["ttct_app"] and "passwordSecret" not in roles[owner]
        assert config[f"ttct-{owner}"]["DATABASE_APP_ROLE"] == "ttct_app"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_network_policies_allow_only_the_declared_traffic(scenario):
    values = values_for(scenario)
    cnpg = (values.get("postgresql") or {}).get("cnpg", {}).get("enabled", False)
    policies = by_name(scenario, "NetworkPolicy")
    for name, policy in policies.items():
        spec = policy["spec"]
        assert spec["policyTypes"] == ["Ingress", "Egress"], name
        # A rule without ports would open every port; each rule here names its ports.
        assert all(rule.get("ports") for rule in spec["egress"]), name
        egress_ports = {p["port"] for rule in spec["egress"] for p in rule["ports"]}
        assert 53 in egress_ports, name
        if name == "ttct-topology":
            assert spec["ingress"] == [] and egress_ports <= {53, 4222}
            continue
        assert spec["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}],
                                    **({"from": values["networkPolicy"]["ingressFrom"]}
                                       if values.get("networkPolicy", {}).get("ingressFrom") else {})}]
        assert {4222, 5432} <= egress_ports, name
        if cnpg:  # its own database cluster and no other
            database = [r for r in spec["egress"] if r["ports"][0]["port"] == 5432]
            assert database[0]["to"] == [{"podSelector": {"matchLabels": {"cnpg.io/cluster": f"{name}-db"}}}]
        extra = egress_ports - {53, 4222, 5432, 4317, 4318}
        if name == "ttct-notification":
            assert 443 in extra, "webhooks"
        else:
            assert not extra, (name, extra)


def test_nats_egress_targets_the_bundled_nats_when_enabled():
    policy = by_name("single-centre", "NetworkPolicy")["ttct-scheduling"]
    nats_rule = [r for r in policy["spec"]["egress"] if r["ports"][0]["port"] == 4222][0]
    assert nats_rule["to"] == [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "nats", "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/component": "nats"}}}]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_topology_job_is_a_hook_running_the_topology_apply(scenario):
    (job,) = objects(scenario, "Job")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "ttct.eventsourcing.topology", "apply"]
    env = {e["name"]: e for e in container["env"]}
    assert env["PROVINCE_CODE"]["value"] == values_for(scenario).get("province", "thanh-hoa")
    assert env["NATS_URL"]["valueFrom"]["secretKeyRef"] == nats_secret(scenario, "admin")
    source = values_for(scenario).get("topology", {}).get("service", "scheduling")
    deployment = by_name(scenario, "Deployment")[f"ttct-{source}"]
    assert container["image"] == deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # The Job needs the same NATS credentials and files as the services.
    service_env = {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert {n for n in service_env if n.startswith("NATS_")} <= set(env)


@pytest.mark.parametrize("scenario", ["single-centre", "province", "everything"])
def test_ingress_routes_api_paths_to_existing_services(scenario):
    (ingress,) = objects(scenario, "Ingress")
    services = by_name(scenario, "Service")
    routed = set()
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            assert path["path"].startswith("/v1/"), "only the APIs: not /metrics, /healthz or /docs"
            backend = path["backend"]["service"]
            assert backend["name"] in services and backend["port"] == {"name": "http"}
            routed.add(backend["name"])
        # Longest first: a regex-matching controller takes the first match, and /classes/{id}/enrolments
        # must not be swallowed by /classes.
        lengths = [len(p["path"]) for p in rule["http"]["paths"]]
        assert lengths == sorted(lengths, reverse=True)
    assert routed == set(services)


def test_ingress_refuses_a_path_listed_for_two_services():
    with pytest.raises(helm.HelmError, match="listed twice"):
        render({"ingress": {"enabled": True},
                "services": {"notification": {"ingressPaths": [{"path": "/v1/centres/[^/]+/classes"}]}}})


def test_service_monitor_scrapes_metrics_of_every_service():
    (monitor,) = objects("everything", "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    selected = {s["metadata"]["name"] for s in objects("everything", "Service")
                if _selects(monitor["spec"]["selector"], s["metadata"]["labels"])}
    assert selected == {f"ttct-{s}" for s in enabled_services("everything")}


def test_nothing_optional_renders_by_default():
    kinds = {o["kind"] for o in objects("default")}
    assert kinds == {"ConfigMap", "Deployment", "Job", "NetworkPolicy", "PodDisruptionBudget", "Service",
                     "ServiceAccount"}


# --------------------------------------------------------------------------------------------------------------
# values.schema.json
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("values, where", [
    ({"unknownKey": 1}, "unknownKey"),
    ({"serviceDefaults": {"replica": 2}}, "replica"),
    ({"services": {"notifcation": {}}}, "notifcation"),
    ({"services": {"enrolment": {"autoscaling": {"enabeld": True}}}}, "enabeld"),
    ({"postgresql": {"cnpg": {"enabled": True, "instance": 1}}}, "instance"),
])
def test_schema_refuses_an_unknown_key(values, where):
    with pytest.raises(helm.HelmValuesError, match=where):
        render(values)


@pytest.mark.parametrize("values", [
    {"image": {"tag": "latest"}},
    {"image": {"tag": "Latest"}},
    {"serviceDefaults": {"image": {"tag": "latest"}}},
    {"services": {"scheduling": {"image": {"tag": "latest"}}}},
])
def test_schema_refuses_the_latest_tag(values):
    with pytest.raises(helm.HelmValuesError, match="tag"):
        render(values)
    report = helm.lint(CHART, values, strict=True)
    assert any("tag" in error for error in report["errors"])


@pytest.mark.parametrize("values", [
    {"province": "Thanh Hoa"},
    {"natsConnection": {"url": "nats://nats:4222"}},  # URLs carry credentials: only in Secrets
    {"natsConnection": {"urlSecret": {"name": "nats-client"}}},  # one Secret for all: replaced by one per user
    {"serviceDefaults": {"natsConnection": {"secretName": "Not_A_Name"}}},
    {"services": {"scheduling": {"natsConnection": {"secretKey": ""}}}},
    {"topology": {"natsConnection": {"name": "x"}}},
    {"securityContext": {"runAsUser": 0}},
    {"mounts": [{"name": "x", "mountPath": "/x"}]},
    {"secretEnv": {"NATS_PASSWORD": {"secretName": "s"}}},
    {"topology": {"service": "reporting"}},
    {"env": {"DB_POOL_SIZE": 20}},  # Kubernetes env values are strings; so are ours, unambiguously
    {"ingress": {"enabled": True, "pathType": "Regex"}},
])
def test_schema_refuses_malformed_values(values):
    with pytest.raises(helm.HelmValuesError):
        render(values)


def test_a_pinned_tag_and_digest_are_used_as_given():
    digest = "sha256:" + "ab" * 32
    deployment = [d for d in render({"image": {"tag": "0.2.0"},
                                     "services": {"scheduling": {"image": {"digest": digest}}}})
                  if d["kind"] == "Deployment" and d["metadata"]["name"] == "ttct-scheduling"][0]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == \
        f"registry.example.vn/ttct/ttct-scheduling:0.2.0@{digest}"


def test_service_false_overrides_a_true_default():
    """A key set to false (or 0) for one service wins over serviceDefaults, which sprig's merge would not do."""
    rendered = render({"serviceDefaults": {"autoscaling": {"enabled": True}, "podDisruptionBudget": {"enabled": True}},
                       "services": {"scheduling": {"autoscaling": {"enabled": False},
                                                   "podDisruptionBudget": {"enabled": False}, "replicas": 0}}})
    hpas = {o["metadata"]["name"] for o in rendered if o["kind"] == "HorizontalPodAutoscaler"}
    pdbs = {o["metadata"]["name"] for o in rendered if o["kind"] == "PodDisruptionBudget"}
    assert "ttct-scheduling" not in hpas and "ttct-scheduling" not in pdbs and "ttct-enrolment" in hpas
    scheduling = [o for o in rendered if o["kind"] == "Deployment" and o["metadata"]["name"] == "ttct-scheduling"]
    assert scheduling[0]["spec"]["replicas"] == 0
