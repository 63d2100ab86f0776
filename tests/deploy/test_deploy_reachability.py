"""Reachability: for each pod of each example profile, every host and port its settings name (databases, the key
vault, NATS, the OTLP collector, the identity provider's JWKS, the SMTP relay, and the webhook receivers the
notification service calls) is a known endpoint that the rendered NetworkPolicies let it reach, and so is DNS;
and the clients the prerequisites list (the gateway's or ingress controller's proxies, Prometheus) reach every
service's HTTP port. The settings are what the kubelet would give each container (deploy_cluster.ClusterState),
so a Secret the chart names but nobody makes fails here too.

A host is resolved as the cluster's DNS would: a Service of the release (to the pods it selects, its port to
their container port), a CloudNativePG cluster's <name>-rw Service (to its instances, labelled cnpg.io/cluster),
or an outside system the profile's prerequisites file lists (an address, or a namespace and labels).
"""
from __future__ import annotations

import re

import pytest
from deploy_chart import PROFILES, Prerequisites, Rendered, render_profile
from deploy_cluster import CNPG_PORT, IDENTIFIERS, ClusterState
from deploy_network import Endpoint, Policies

pytestmark = pytest.mark.deploy

RELEASE, NAMESPACE = "reach", "ttct-prod"
DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "nats": 4222, "tls": 4222, "http": 80, "https": 443}
URL = re.compile(r"\b([a-z][a-z0-9+.-]*)://(?:[^@/\s,]*@)?([A-Za-z0-9.-]+)(?::(\d+))?")
KUBE_DNS = Endpoint("kube-dns", "kube-system", {"k8s-app": "kube-dns"}, ports={"dns": 53})


def destinations(component: str, env: dict[str, str], prerequisites: Prerequisites) -> list[tuple[str, str, int]]:
    """(setting, host, port) for every host the settings name."""
    found = [(name, m[2], int(m[3] or DEFAULT_PORTS[m[1]])) for name, value in env.items()
             if name not in IDENTIFIERS for m in URL.finditer(value)]
    if host := env.get("SMTP_HOST"):
        found.append(("SMTP_HOST", host, int(env.get("SMTP_PORT", "25"))))
    if component == "notification":  # the organisations' webhook URLs are data, not settings
        found += [("webhooks", o["host"], o["port"]) for o in prerequisites.outside if o["name"] == "webhook receivers"]
    return found


class Directory:
    """Host and port -> the endpoints behind them, as the cluster's DNS and Services resolve them."""

    def __init__(self, rendered: Rendered, prerequisites: Prerequisites) -> None:
        self.rendered, self.prerequisites = rendered, prerequisites
        self.pods = [(p, self._endpoint(p)) for p in rendered.pods()]

    def _endpoint(self, pod) -> Endpoint:
        ports = {p["name"]: p["containerPort"] for c in pod.spec["containers"] for p in c.get("ports", []) if "name" in p}
        return Endpoint(pod.name, self.rendered.namespace, pod.labels, ports=ports)

    def resolve(self, host: str, port: int) -> list[tuple[Endpoint, int]]:
        for outside in self.prerequisites.outside:
            if outside["host"] == host:
                assert outside["port"] == port, f"{host}: the settings say port {port}, the prerequisites {outside['port']}"
                return [(Endpoint(outside["name"], outside.get("namespace"), outside.get("labels", {}),
                                  outside.get("address")), port)]
        name, _, namespace = re.sub(r"\.svc(\.cluster\.local)?$", "", host).partition(".")
        if (namespace or self.rendered.namespace) != self.rendered.namespace:
            return []
        if (service := self.rendered.find("Service", name)) is not None:
            (service_port,) = [p for p in service["spec"]["ports"] if p["port"] == port] or [None]
            assert service_port, f"Service {name} has no port {port}"
            target = service_port.get("targetPort", port)
            return [(endpoint, endpoint.ports[target] if isinstance(target, str) else target)
                    for pod, endpoint in self.pods if service["spec"].get("selector")
                    and service["spec"]["selector"].items() <= pod.labels.items()]
        cluster = re.sub(r"-(rw|ro|r)$", "", name)
        if self.rendered.find("Cluster", cluster) is not None and port == CNPG_PORT:
            labels = {"cnpg.io/cluster": cluster, "cnpg.io/instanceRole": "primary", "cnpg.io/podRole": "instance"}
            return [(Endpoint(f"{cluster}-1", self.rendered.namespace, labels, ports={"postgresql": CNPG_PORT}), port)]
        return []


def _setting(profile: str) -> tuple[Rendered, Prerequisites, ClusterState, Directory, Policies]:
    rendered = render_profile(profile, RELEASE, NAMESPACE)
    prerequisites = Prerequisites.load(profile, RELEASE, NAMESPACE)
    return (rendered, prerequisites, ClusterState(rendered, prerequisites), Directory(rendered, prerequisites),
            Policies(rendered.of("NetworkPolicy"), NAMESPACE))


def reachable(profile: str) -> tuple[list[str], list[tuple[str, str, str, int]]]:
    """What the pods' settings name that they cannot reach; and every (pod, setting, host, port) checked."""
    rendered, prerequisites, state, directory, policies = _setting(profile)
    blocked, checked = [], []
    for pod, source in directory.pods:
        if pod.owner["kind"] == "StatefulSet":  # NATS: its own chart's pods, no policy of ours selects them
            continue
        for container in pod.containers():
            env = state.env(pod, container, f"{pod.name}-0")
            if not policies.allows(source, KUBE_DNS, 53, "UDP"):
                blocked.append(f"{pod.name}: DNS")
            for setting, host, port in destinations(pod.component, env, prerequisites):
                checked.append((pod.name, setting, host, port))
                endpoints = directory.resolve(host, port)
                if not endpoints:
                    blocked.append(f"{pod.name}: {setting} names {host}:{port}, which nothing provides")
                for endpoint, number in endpoints:
                    if not policies.allows(source, endpoint, number):
                        blocked.append(f"{pod.name}: {setting} -> {endpoint.name} ({host}:{number}) is blocked")
    return blocked, checked


@pytest.mark.parametrize("profile", PROFILES)
def test_every_pod_may_reach_every_host_its_settings_name(profile):
    blocked, checked = reachable(profile)
    assert blocked == [], "\n".join(blocked)
    settings = {s for _, s, _, _ in checked}
    # The check saw what it is meant to: every service's databases and NATS, the identity provider when it is a URL.
    assert {"DATABASE_URL", "KEY_VAULT_URL", "NATS_URL", "webhooks"} <= settings
    if profile != "default":
        assert "AUTH_JWKS_URL" in settings
    if profile == "province":
        assert {"OTEL_EXPORTER_OTLP_ENDPOINT", "SMTP_HOST"} <= settings


@pytest.mark.parametrize("profile", PROFILES)
def test_the_listed_clients_reach_every_service_on_its_http_port(profile):
    rendered, prerequisites, _, directory, policies = _setting(profile)
    for client in prerequisites.clients:
        proxy = Endpoint(client["name"], client["namespace"], client.get("labels", {"app": "proxy"}))
        for pod, endpoint in directory.pods:
            if pod.owner["kind"] == "Deployment":
                assert policies.allows(proxy, endpoint, "http"), f"{client['name']} cannot reach {pod.name}"


def test_the_check_does_catch_a_blocked_destination():
    """Guards the tests above with the defects they were written for: an identity provider outside the
    webhook rule's reach, and a key vault outside the database rule's."""
    rendered, prerequisites, state, directory, policies = _setting("province")
    scheduling = next(e for p, e in directory.pods if p.component == "scheduling")
    enrolment = next(e for p, e in directory.pods if p.component == "enrolment")
    (idp,) = directory.resolve("id.thanhhoa.example.vn", 443)
    other_address = Endpoint("elsewhere", address="198.51.100.99")
    assert policies.allows(scheduling, *idp) and not policies.allows(scheduling, other_address, 443)
    (vault,) = directory.resolve(f"{rendered.fullname}-key-vault-db-rw.{NAMESPACE}", CNPG_PORT)
    (foreign,) = directory.resolve(f"{rendered.fullname}-scheduling-db-rw.{NAMESPACE}", CNPG_PORT)
    assert policies.allows(enrolment, *vault) and not policies.allows(enrolment, *foreign)
    assert not policies.allows(scheduling, *vault), "scheduling keeps no personal data"
    outsider = Endpoint("outsider", "default", {"app": "x"})
    assert not policies.allows(outsider, enrolment, "http")
