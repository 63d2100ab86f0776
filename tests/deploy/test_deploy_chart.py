"""The Helm chart (deploy/helm/ttct), linted and rendered by the real Helm v4 SDK (helm-python-sdk, no helm binary
and no cluster), for the default values, both example values files and a scenario switching everything on. Every
rendered object is validated strictly: Kubernetes kinds with kubernetes-validate's schemas, the custom resources
(CloudNativePG Cluster and ScheduledBackup, the Barman Cloud ObjectStore, the Gateway API HTTPRoute, the
Prometheus Operator ServiceMonitor and PodMonitor) with schemas generated from their upstream CRDs
(crd_schemas/README.md). Then the properties an operator relies on are asserted on every object: security
context, probes, wiring between objects. The vendored NATS chart (charts/nats, locked by Chart.lock) renders
with them: no network is needed.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import pytest
import yaml
from deploy_chart import CHART, profile_values
from deploy_chart import render as render_chart

pytestmark = pytest.mark.deploy

CRD_SCHEMAS = Path(__file__).with_name("crd_schemas")
RELEASE, NAMESPACE = "ttct", "ttct"
SERVICES = ("scheduling", "enrolment", "assessment", "notification", "console")
# The oldest Kubernetes minor the chart is tested for, and the newest kubernetes-validate knows.
KUBE_VERSIONS = ("1.33.0", kubernetes_validate.latest_version())

EXAMPLES = ("default", "single-centre", "province")
# Switches everything optional on, on top of the defaults, so each template renders at least once.
EVERYTHING = {
    "ingress": {"enabled": True, "hosts": ["api.example.vn"], "className": "nginx"},
    "gateway": {"enabled": True, "parentRefs": [{"name": "public", "namespace": "gateway"}]},
    "serviceMonitor": {"enabled": True},
    "postgresql": {"cnpg": {"enabled": True, "services": {"notification": {"instances": 1}},
                            "podMonitor": {"enabled": True},
                            "backup": {"enabled": True, "destinationPath": "s3://backups/ttct",
                                       "s3CredentialsSecret": "backup-s3"}}},
    "telemetry": {"otlp": {"endpoint": "http://collector.observability:4318"}},
    "auth": {"issuer": "https://id.example.vn", "jwksUrl": "https://id.example.vn/jwks"},
    "secretEnv": {"SMTP_PASSWORD": {"secretName": "smtp", "key": "password"}},
    "mounts": [{"name": "nats-ca", "mountPath": "/etc/ttct/nats", "secretName": "nats-ca"}],
    "natsConnection": {"networkPolicyPeers": [{"ipBlock": {"cidr": "10.30.0.0/24"}}]},
    "serviceDefaults": {"autoscaling": {"enabled": True}},
    "services": {"assessment": {"enabled": False},
                 "console": {"enabled": True, "publicHostnames": ["console.example.vn"],
                             "calls": ["scheduling", "enrolment", "notification"],  # assessment is off here
                             "env": {"PUBLIC_URL": "https://console.example.vn",
                                     "OIDC_METADATA_URL": "https://id.example.vn/.well-known/openid-configuration"},
                             "secretEnv": {"SESSION_SECRET": {"secretName": "console", "key": "session"}}},
                 "notification": {"podDisruptionBudget": {"enabled": False},
                                  "natsConnection": {"secretName": "notices-nats", "secretKey": "uri"}}},
    "topology": {"service": "enrolment", "natsConnection": {"secretName": "ops-nats-admin"}},
}
SCENARIOS = [*EXAMPLES, "everything"]
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PodMonitor"),
    ("postgresql.cnpg.io/v1", "Cluster"), ("postgresql.cnpg.io/v1", "ScheduledBackup"),
    ("barmancloud.cnpg.io/v1", "ObjectStore"), ("gateway.networking.k8s.io/v1", "HTTPRoute"),
}


def values_for(scenario: str) -> dict[str, Any]:
    if scenario == "everything":
        return json.loads(json.dumps(EVERYTHING))
    return profile_values(scenario)


def crd_schema(api_version: str, kind: str) -> dict[str, Any]:
    group, version = api_version.split("/")
    return json.loads((CRD_SCHEMAS / f"{kind}-{group}-{version}.json".lower()).read_text())


def render(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return render_chart(values or {}, RELEASE, NAMESPACE).objects


_RENDERED: dict[str, list[dict[str, Any]]] = {}


def objects(scenario: str, kind: str | None = None) -> list[dict[str, Any]]:
    if scenario not in _RENDERED:
        _RENDERED[scenario] = render(values_for(scenario))
    return [o for o in _RENDERED[scenario] if kind is None or o["kind"] == kind]


def ours(scenario: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The objects of this chart's own templates, the NATS subchart's left out."""
    return [o for o in objects(scenario, kind) if "/charts/" not in o["_template"]]


def by_name(scenario: str, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects(scenario, kind)}


def manifest(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the API server gets it (our bookkeeping key dropped, empty annotations too)."""
    clean = {k: v for k, v in obj.items() if k != "_template"}
    meta = clean["metadata"]
    clean["metadata"] = {k: v for k, v in meta.items() if not (k == "annotations" and not v)}
    return clean


def service_setting(scenario: str, service: str, *path: str) -> Any:
    """A service's setting as the chart merges it: the scenario's, else values.yaml's services.<name>, else its
    serviceDefaults."""
    chart = yaml.safe_load((CHART / "values.yaml").read_text())
    for source in (values_for(scenario).get("services", {}).get(service), chart["services"].get(service),
                   chart["serviceDefaults"]):
        found = source or {}
        for key in path:
            found = found.get(key, {}) if isinstance(found, dict) else {}
        if found != {}:
            return found
    return None


def enabled_services(scenario: str) -> list[str]:
    return [s for s in SERVICES if service_setting(scenario, s, "enabled")]


def nats_users(scenario: str) -> list[str]:
    """The enabled services that connect to NATS (each as a user of its own): all but the console."""
    return [s for s in enabled_services(scenario) if service_setting(scenario, s, "natsConnection", "enabled")]


# --------------------------------------------------------------------------------------------------------------
# Lint, render, validate
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", SCENARIOS)
def test_chart_lints_strictly(scenario):
    report = helm.lint(CHART, values_for(scenario), strict=True, namespace=NAMESPACE, kube_version="v1.33.0")
    assert [m for m in report["messages"] if m["severity"] >= 2] == []
    assert report["errors"] == []


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_object_validates_strictly(scenario):
    rendered = objects(scenario)
    assert rendered
    for obj in rendered:
        name = f"{obj['_template']}: {obj['kind']}/{obj['metadata'].get('name')}"
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
            try:
                jsonschema.validate(manifest(obj), crd_schema(obj["apiVersion"], obj["kind"]),
                                    cls=jsonschema.Draft202012Validator)
            except jsonschema.ValidationError as error:
                pytest.fail(f"{name} invalid: {error.message} at {list(error.absolute_path)}")
            continue
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(manifest(obj), version, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(f"{name} invalid for Kubernetes {version}: {error.message} at {list(error.path)}")


def test_every_custom_kind_is_rendered_by_some_scenario():
    """So that the schema validation above has met each kind the chart can render."""
    rendered = {(o["apiVersion"], o["kind"]) for s in SCENARIOS for o in objects(s)}
    assert rendered >= CUSTOM_KINDS


def test_kubernetes_validate_does_refuse_a_misspelt_field():
    """Guards the validation above: strict mode must catch a field Kubernetes would silently drop."""
    deployment = manifest(objects("default", "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesytem"] = True
    for version in KUBE_VERSIONS:
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(deployment, version, strict=True)


@pytest.mark.parametrize("kind, path", [
    ("Cluster", ("spec", "instancez")),
    ("Cluster", ("spec", "plugins", 0, "isWalArchiver")),
    ("ScheduledBackup", ("spec", "schedulle")),
    ("ObjectStore", ("spec", "configuration", "destinationPth")),
    ("HTTPRoute", ("spec", "rules", 0, "matches", 0, "path", "regex")),
    ("ServiceMonitor", ("spec", "endpoints", 0, "intervall")),
    ("PodMonitor", ("spec", "podMetricsEndpoints", 0, "prot")),
])
def test_the_custom_resource_schemas_do_refuse_unknown_fields(kind, path):
    """Guards the validation above: a schema that accepted anything would prove nothing. Each misspelt field is
    one the API server would silently drop."""
    obj = manifest(objects("everything", kind)[0])
    node = obj
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(obj, crd_schema(obj["apiVersion"], kind), cls=jsonschema.Draft202012Validator)


def test_the_nats_chart_is_vendored_and_locked_as_helm_checks_it(tmp_path):
    """charts/nats is the official chart at the version Chart.yaml asks for and Chart.lock pins, and Helm itself
    finds the lock in step with Chart.yaml (it reaches the download, which has no index here, and does not stop
    at "out of sync")."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    lock = yaml.safe_load((CHART / "Chart.lock").read_text())
    vendored = yaml.safe_load((CHART / "charts" / "nats" / "Chart.yaml").read_text())
    (wanted,) = chart["dependencies"]
    (locked,) = lock["dependencies"]
    assert wanted["version"] == locked["version"] == vendored["version"]
    assert wanted["repository"] == locked["repository"] == "https://nats-io.github.io/k8s/helm/charts/"
    assert tuple(int(x) for x in vendored["appVersion"].split(".")[:2]) >= (2, 12), "nats-server 2.12 or newer"
    assert helm.dependency_list(CHART) == [{**{k: wanted[k] for k in ("name", "version", "repository")},
                                            "status": "unpacked"}]
    copy = tmp_path / "ttct"
    import shutil
    shutil.copytree(CHART, copy, ignore=shutil.ignore_patterns("charts"))
    with pytest.raises(helm.HelmRepoError) as refused:
        helm.dependency_build(copy, skip_refresh=True)
    assert "out of sync" not in str(refused.value)
    (copy / "Chart.yaml").write_text((CHART / "Chart.yaml").read_text().replace('"2.14.2"', '"2.14.1"'))
    with pytest.raises(helm.HelmRepoError, match="out of sync"):
        helm.dependency_build(copy, skip_refresh=True)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_one_set_of_objects_per_enabled_service(scenario):
    services = enabled_services(scenario)
    for kind in ("Deployment", "Service", "ConfigMap", "NetworkPolicy"):
        names = {o["metadata"]["name"] for o in ours(scenario, kind)} - {"ttct-topology", "ttct-nats-auth"}
        assert names == {f"ttct-{s}" for s in services}, kind
    keys = [(o["kind"], o["metadata"]["name"]) for o in objects(scenario)]
    assert len(keys) == len(set(keys)), "two objects of one kind and name"
    assert all(o["metadata"]["namespace"] == NAMESPACE for o in ours(scenario))


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


@pytest.mark.parametrize("scenario", ["single-centre", "province"])
def test_the_nats_servers_run_locked_down_with_resources(scenario):
    (statefulset,) = objects(scenario, "StatefulSet")
    pod = statefulset["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["fsGroup"] > 0, "the JetStream volume must be writable by that user"
    for container in pod["containers"]:
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"], container["name"]
    (nats,) = [c for c in pod["containers"] if c["name"] == "nats"]
    limit = nats["resources"]["limits"]["memory"]
    gomemlimit = {e["name"]: e.get("value") for e in nats["env"]}["GOMEMLIMIT"]
    assert int(gomemlimit.removesuffix("MiB")) < int(limit.removesuffix("Gi")) * 1024
    # One server per node, or a node's loss takes two of three and JetStream loses its quorum.
    (by_host,) = [c for c in pod["topologySpreadConstraints"] if c["topologyKey"] == "kubernetes.io/hostname"]
    assert by_host["whenUnsatisfiable"] == "DoNotSchedule"
    assert by_host["labelSelector"]["matchLabels"].items() <= statefulset["spec"]["template"]["metadata"]["labels"].items()


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
        if service_setting(scenario, service, "database", "enabled"):
            database = env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]
            assert database == ({"name": f"{name}-db-app", "key": "uri"} if cnpg
                                else {"name": f"{name}-database", "key": "url"})
        else:  # the console keeps no data
            assert "DATABASE_URL" not in env and "KEY_VAULT_URL" not in env
        # Each service connects to NATS as its own user: its URL, with that user's password, from its own Secret.
        assert "NATS_URL" not in data
        if service in nats_users(scenario):
            assert env["NATS_URL"]["valueFrom"]["secretKeyRef"] == nats_secret(scenario, service)
        # The services it calls (the console), at their Services' in-cluster names.
        for callee in service_setting(scenario, service, "calls") or []:
            assert data[f"{callee.upper()}_URL"] == f"http://ttct-{callee}.{NAMESPACE}.svc", name
        assert "k8s.pod.name=$(POD_NAME)" in env["OTEL_RESOURCE_ATTRIBUTES"]["value"]
        # The identity provider's keys: from its JWKS URL, or a mounted public key (else the service does not start).
        assert ("AUTH_JWKS_URL" in data) != ("AUTH_PUBLIC_KEY_FILE" in data), name
        if "AUTH_PUBLIC_KEY_FILE" in data:
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            volume = mounts[data["AUTH_PUBLIC_KEY_FILE"].rsplit("/", 1)[0]]
            (source,) = [v["secret"] for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == volume]
            assert source["items"] == [{"key": "public.pem", "path": data["AUTH_PUBLIC_KEY_FILE"].rsplit("/", 1)[1]}]
        # The key vault, for those that seal or open learners' personal data: the chart's own cluster, or yours.
        if service in ("scheduling", "console"):
            assert "KEY_VAULT_URL" not in env
        else:
            assert env["KEY_VAULT_URL"]["valueFrom"]["secretKeyRef"] == (
                {"name": "ttct-key-vault-db-app", "key": "uri"} if cnpg else {"name": "ttct-key-vault", "key": "url"})
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
        if workload["metadata"]["labels"]["app.kubernetes.io/component"] not in [*nats_users(scenario), "topology"]:
            assert not [e for e in container["env"] if e["name"] == "NATS_URL"]  # the console: no NATS at all
            continue
        (nats_url,) = [e for e in container["env"] if e["name"] == "NATS_URL"]
        assert set(nats_url) == {"name", "valueFrom"}, "never a literal URL"
        refs[workload["metadata"]["labels"]["app.kubernetes.io/component"]] = nats_url["valueFrom"]["secretKeyRef"]
    users = [*nats_users(scenario), "topology"]
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
    for service in ours(scenario, "Service"):
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
    for pdb in ours(scenario, "PodDisruptionBudget"):
        assert _selects(pdb["spec"]["selector"],
                        deployments[pdb["metadata"]["name"]]["spec"]["template"]["metadata"]["labels"])


def test_province_scales_and_spreads():
    deployments = by_name("province", "Deployment")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in objects("province", "HorizontalPodAutoscaler")} == {
        "ttct-enrolment", "ttct-assessment", "ttct-notification", "ttct-console"}
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
        if owner == "key_vault":  # the services' pools there run as its owner: a key table, no tenants' rows
            assert "managed" not in cluster["spec"]
            continue
        roles = {r["name"]: r for r in cluster["spec"]["managed"]["roles"]}
        app = roles["ttct_app"]
        assert app["ensure"] == "present" and not app["login"] and not app["superuser"] and not app["bypassrls"]
        assert roles[owner]["inRoles"] == ["ttct_app"] and "passwordSecret" not in roles[owner]
        assert config[f"ttct-{owner}"]["DATABASE_APP_ROLE"] == "ttct_app"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_network_policies_allow_only_the_declared_traffic(scenario):
    """What each pod may reach (and that it reaches all it needs) is test_deploy_reachability's; here, that the
    policies open nothing beyond: every rule names its ports, the services take connections on `http` only, and
    their egress goes to DNS, NATS, PostgreSQL, the identity provider, the collector and their extra egress."""
    values = values_for(scenario)
    auth = {**{"jwksUrl": ""}, **values.get("auth", {})}
    otlp = values.get("telemetry", {}).get("otlp", {}).get("endpoint")
    declared = {53, 4222, 5432} | ({443} if auth["jwksUrl"].startswith("https://") else set()) | (
        {int(otlp.rsplit(":", 1)[1])} if otlp else set())
    for name, policy in by_name(scenario, "NetworkPolicy").items():
        spec = policy["spec"]
        assert spec["policyTypes"] == ["Ingress", "Egress"], name
        # A rule without ports would open every port; each rule here names its ports.
        assert all(rule.get("ports") for rule in spec["egress"]), name
        egress_ports = {p["port"] for rule in spec["egress"] for p in rule["ports"]}
        if name == "ttct-topology":
            assert spec["ingress"] == [] and egress_ports == {53, 4222}
            continue
        service = name.removeprefix("ttct-")
        # the sources ingressFrom names and the services of the release that call this one (the console)
        callers = [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ttct", "app.kubernetes.io/instance":
                                                    RELEASE, "app.kubernetes.io/component": caller}}}
                   for caller in enabled_services(scenario) if service in (service_setting(scenario, caller, "calls")
                                                                           or [])]
        assert spec["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}],
                                    **({"from": values["networkPolicy"]["ingressFrom"] + callers}
                                       if values.get("networkPolicy", {}).get("ingressFrom") else {})}]
        if service_setting(scenario, service, "calls"):
            declared = declared | {8080}  # the called services' HTTP port
        extra = values.get("services", {}).get(service, {}).get("networkPolicy", {}).get("extraEgress")
        if extra is None:
            extra = yaml.safe_load((CHART / "values.yaml").read_text())["services"][service].get(
                "networkPolicy", {}).get("extraEgress", [])
        assert egress_ports <= declared | {p["port"] for rule in extra for p in rule["ports"]}, name


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
    {"telemetry": {"otlp": {"endpoint": "http://collector:4317", "protocol": "grpc"}}},  # only OTLP/HTTP is installed
    {"auth": {"issuer": ""}},
    {"gateway": {"enabled": True}},  # attached to no Gateway
    {"postgresql": {"cnpg": {"backup": {"enabled": True}}}},  # backed up to nowhere
    {"services": {"notifcation": {}}},
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


@pytest.mark.parametrize("scenario", ["single-centre", "province"])
def test_a_certificate_s_qr_code_leads_to_the_console_s_public_page(scenario):
    """Unset, assessment would print its own in-cluster address (http://0.0.0.0:8080/…) on every certificate."""
    config = by_name(scenario, "ConfigMap")
    assert config["ttct-assessment"]["data"]["CERTIFICATE_VERIFICATION_URL"] == (
        config["ttct-console"]["data"]["PUBLIC_URL"] + "/verify")
