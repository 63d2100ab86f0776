"""Consistency: what the rendered objects of each example profile need of each other and of the cluster holds
together, under any release name. Every Secret and ConfigMap a pod reads (env, envFrom, volumes) or a custom
resource names is rendered, made by an operator from a rendered object, or listed, with its keys, in the
profile's prerequisites file (deploy/helm/prerequisites/), and every entry there is used; every custom kind is
among the CRDs the prerequisites install; streams have as many replicas as the NATS cluster has servers and fit
its volume; every PostgreSQL cluster is backed up and scraped where the profile says so; cluster TLS has a CA.
"""
from __future__ import annotations

import re

import pytest
from deploy_chart import PROFILES, Prerequisites, Rendered, render_profile
from ttct.eventsourcing.topology import PUBLISHES

pytestmark = pytest.mark.deploy

RELEASES = [("ttct", "ttct"), ("thanhhoa-prod", "ttct-prod"), ("nats", "edge")]  # "nats": both fullnames collapse
BUILT_IN = {"v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v2", "networking.k8s.io/v1"}
UNITS = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40}


def _setting(profile: str, release: str, namespace: str) -> tuple[Rendered, Prerequisites]:
    return render_profile(profile, release, namespace), Prerequisites.load(profile, release, namespace)


def operator_made(rendered: Rendered) -> dict[str, set[str]]:
    """Secrets an operator makes from rendered objects, with their keys: CloudNativePG's <cluster>-app, and
    cert-manager's for an Ingress TLS entry when the Ingress names an issuer."""
    made = {f"{c['metadata']['name']}-app": {"uri", "username", "password", "host", "port", "dbname"}
            for c in rendered.of("Cluster")}
    for ingress in rendered.of("Ingress"):
        if any(k.startswith("cert-manager.io/") for k in ingress["metadata"].get("annotations", {})):
            made |= {tls["secretName"]: {"tls.crt", "tls.key"} for tls in ingress["spec"].get("tls", [])}
    return made


def needed(rendered: Rendered) -> dict[tuple[str, str], set[str | None]]:
    """(kind, name) -> keys read (None: the whole object), for every Secret and ConfigMap the objects name."""
    refs: dict[tuple[str, str], set[str | None]] = {}
    for pod in rendered.pods():
        for name, key in pod.secret_refs():
            refs.setdefault(("Secret", name), set()).add(key)
        for name, key in pod.config_map_refs():
            refs.setdefault(("ConfigMap", name), set()).add(key)
    for store in rendered.of("ObjectStore"):
        for ref in store["spec"]["configuration"].get("s3Credentials", {}).values():
            refs.setdefault(("Secret", ref["name"]), set()).add(ref["key"])
    for ingress in rendered.of("Ingress"):
        for tls in ingress["spec"].get("tls", []):
            refs.setdefault(("Secret", tls["secretName"]), set()).update({"tls.crt", "tls.key"})
    return refs


@pytest.mark.parametrize("release, namespace", RELEASES)
@pytest.mark.parametrize("profile", PROFILES)
def test_every_secret_and_config_map_is_rendered_made_or_a_listed_prerequisite(profile, release, namespace):
    rendered, prerequisites = _setting(profile, release, namespace)
    available = {("ConfigMap", o["metadata"]["name"]): set(o.get("data", {})) for o in rendered.of("ConfigMap")}
    available |= {("Secret", n): keys for n, keys in operator_made(rendered).items()}
    listed = {("Secret", n): set(s["keys"]) for n, s in prerequisites.secrets.items()}
    listed |= {("ConfigMap", n): set(c["keys"]) for n, c in prerequisites.config_maps.items()}
    missing = []
    for ref, keys in sorted(needed(rendered).items()):
        have = available.get(ref, listed.get(ref))
        if have is None:
            missing.append(f"{ref[0]} {ref[1]}: neither rendered, made by an operator, nor a prerequisite")
        elif absent := {k for k in keys if k is not None} - have:
            missing.append(f"{ref[0]} {ref[1]}: no key {', '.join(sorted(absent))}")
    assert missing == [], "\n".join(missing)
    unused = set(listed) - set(needed(rendered))
    assert not unused, f"listed as prerequisites but read by nothing: {sorted(unused)}"


@pytest.mark.parametrize("profile", PROFILES)
def test_every_custom_kind_has_its_crds_among_the_prerequisites(profile):
    rendered, prerequisites = _setting(profile, "ttct", "ttct")
    custom = {f"{o['apiVersion']}/{o['kind']}" for o in rendered.objects if o["apiVersion"] not in BUILT_IN}
    assert custom <= set(prerequisites.crds), sorted(custom - set(prerequisites.crds))


def _nats_servers(rendered: Rendered) -> int | None:
    sets = rendered.of("StatefulSet")
    return sets[0]["spec"]["replicas"] if sets else None


@pytest.mark.parametrize("profile, servers", [("default", None), ("single-centre", 1), ("province", 3)])
def test_streams_have_as_many_replicas_as_the_nats_cluster_has_servers(profile, servers):
    rendered = render_profile(profile)
    assert _nats_servers(rendered) == servers
    (job,) = rendered.of("Job")
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    # An external NATS (the default profile) is three servers, as its prerequisite says.
    assert int(env["NATS_STREAM_REPLICAS"]) == (servers or 3)
    if servers and servers > 1:
        config = rendered.get("ConfigMap", f"{rendered.nats}-config")["data"]["nats.conf"]
        assert len(re.findall(r"://[\w.-]+-\d+\.[\w.-]+-headless:\d+", config)) == servers, "a route per server"
    for config_map in rendered.of("ConfigMap"):  # the services would create the same streams, were they to
        if "NATS_STREAM_REPLICAS" in config_map.get("data", {}):
            assert config_map["data"]["NATS_STREAM_REPLICAS"] == env["NATS_STREAM_REPLICAS"]


@pytest.mark.parametrize("profile", ["single-centre", "province"])
def test_the_streams_fit_the_jetstream_volume(profile):
    rendered = render_profile(profile)
    (job,) = rendered.of("Job")
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    (statefulset,) = rendered.of("StatefulSet")
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    size = claim["spec"]["resources"]["requests"]["storage"]
    volume = int(size[:-2]) * UNITS[size[-2:]]
    assert 0 < int(env["NATS_STREAM_MAX_BYTES"]) * len(PUBLISHES) <= volume * 0.8


def test_the_servers_of_a_tls_cluster_verify_each_other_against_a_ca():
    rendered = render_profile("province")
    config = rendered.get("ConfigMap", f"{rendered.nats}-config")["data"]["nats.conf"]
    blocks = re.findall(r'"tls": \{([^}]*)\}', config)
    assert len(blocks) == 2, "client and cluster TLS"
    assert all('"ca_file"' in block for block in blocks)
    (pod,) = [p for p in rendered.pods() if p.owner["kind"] == "StatefulSet"]
    ca_file = re.search(r'"ca_file": "([^"]+)"', config)[1]
    (container,) = [c for c in pod.spec["containers"] if c["name"] == "nats"]
    assert any(ca_file.startswith(m["mountPath"] + "/") for m in container["volumeMounts"])


@pytest.mark.parametrize("profile", ["single-centre", "province"])
def test_every_postgresql_cluster_is_backed_up_continuously(profile):
    rendered = render_profile(profile)
    stores = {s["metadata"]["name"]: s for s in rendered.of("ObjectStore")}
    scheduled = {b["spec"]["cluster"]["name"]: b for b in rendered.of("ScheduledBackup")}
    clusters = rendered.of("Cluster")
    with_data = [s for s in rendered.services() if s != "console"]  # the console keeps no data
    assert len(clusters) == len(with_data) + 1, "one per service, one for the key vault"
    for cluster in clusters:
        name = cluster["metadata"]["name"]
        (archiver,) = [p for p in cluster["spec"]["plugins"] if p.get("isWALArchiver")]
        assert archiver["parameters"]["barmanObjectName"] in stores, name
        assert scheduled[name]["spec"]["method"] == "plugin"
        assert scheduled[name]["spec"]["pluginConfiguration"]["name"] == archiver["name"]
    vault = next(c for c in clusters if c["spec"]["bootstrap"]["initdb"]["database"] == "key_vault")
    vault_store = stores[vault["spec"]["plugins"][0]["parameters"]["barmanObjectName"]]
    others = {stores[c["spec"]["plugins"][0]["parameters"]["barmanObjectName"]]["metadata"]["name"]
              for c in clusters if c is not vault}
    assert vault_store["metadata"]["name"] not in others, "the keys' backups expire on their own, sooner"
    days = {s["metadata"]["name"]: int(s["spec"]["retentionPolicy"][:-1]) for s in stores.values()}
    assert all(days[vault_store["metadata"]["name"]] < days[o] for o in others)


def test_the_province_scrapes_the_services_nats_and_every_postgresql_cluster():
    rendered = render_profile("province")
    (monitor,) = rendered.of("ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    monitors = rendered.of("PodMonitor")
    for cluster in rendered.of("Cluster"):
        name = cluster["metadata"]["name"]
        assert [m for m in monitors if m["spec"]["selector"]["matchLabels"] == {"cnpg.io/cluster": name}], name
    (nats,) = [p for p in rendered.pods() if p.owner["kind"] == "StatefulSet"]
    (nats_monitor,) = [m for m in monitors if m["spec"]["selector"]["matchLabels"].items() <= nats.labels.items()]
    exporter_ports = {p["name"] for c in nats.spec["containers"] for p in c.get("ports", [])}
    assert {e["port"] for e in nats_monitor["spec"]["podMetricsEndpoints"]} <= exporter_ports
    assert all(m["metadata"]["labels"].get("release") == "kube-prometheus-stack" for m in [monitor, *monitors])
