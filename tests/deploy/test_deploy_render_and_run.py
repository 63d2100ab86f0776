"""Render and run: each example profile, rendered by the Helm SDK under a release name of its own, is started as
local processes, and the seed's story passes through them.

Every Deployment, the NATS StatefulSet (when the profile bundles NATS) and the topology Job run from what was
rendered: their command and arguments (or the image's entry point, from docker/Dockerfile), their env and
envFrom, and their mounted Secrets and ConfigMaps, resolved from the rendered objects, from the prerequisites
file (deploy/helm/prerequisites/<profile>.yaml, values made by deploy_cluster) and from what CloudNativePG makes
of the rendered Clusters (databases, roles and <cluster>-app Secrets on the harness's PostgreSQL). NATS servers
run their rendered nats.conf: the profile's users, TLS with the CA, the cluster's routes. The profile without a
bundled NATS gets an existing three-server cluster, set up as docs/operations.md says. deploy_local.py lists the
only changes made to run on one machine (ports, DNS, paths; webhooks to loopback).

Then the topology Job must complete, every service must pass its readiness probe, and the story (a centre opens
classes, enrols the organisations' learners, records their scores; each organisation receives one signed result
per learner) must go through the profile's own routes where it has them (HTTPRoute or Ingress, matched as the
controllers match). The streams must carry the replicas and limits the chart set; where the profile sends traces,
each service's must reach the collector.
"""
from __future__ import annotations

import asyncio
import ssl
import uuid
from urllib.parse import urlsplit

import httpx
import nats
from nats.js.api import DiscardPolicy
import pytest
from deploy_chart import PROFILES, Prerequisites, profile_values, render
from deploy_cluster import ClusterState
from deploy_local import LocalRun, Target
from deploy_standins import Collector, ExternalNats, gateway_app, jwks_app, serve, shut
from ttct.eventsourcing.topology import PUBLISHES
from ttct_dev.demo import ORGANISATIONS, play
from ttct_dev.receiver import WebhookReceiver

pytestmark = [pytest.mark.deploy, pytest.mark.timeout(300)]

READY_TIMEOUT = 90.0


async def _streams(url: str, tls: ssl.SSLContext | None) -> dict[str, object]:
    nc = await nats.connect(url, tls=tls, connect_timeout=5, max_reconnect_attempts=3)
    try:
        js = nc.jetstream()
        return {name: (await js.stream_info(name)).config for name in PUBLISHES.values()}
    finally:
        await nc.close()


@pytest.mark.parametrize("profile", PROFILES)
async def test_the_profile_comes_up_and_carries_the_seed_story(profile, stack, tmp_path):
    release, namespace = f"r{uuid.uuid4().hex[:6]}", f"ns-{uuid.uuid4().hex[:4]}"
    rendered = render(profile_values(profile), release, namespace)
    state = ClusterState(rendered, Prerequisites.load(profile, release, namespace))
    run = LocalRun(rendered, state, tmp_path, stack.postgres_url)
    servers, external, receiver, collector = [], None, None, Collector()
    client = httpx.AsyncClient(timeout=30)
    try:
        # What is outside the release: the identity provider, the trace collector, an existing NATS.
        auth, otlp = rendered.values["auth"], rendered.values["telemetry"]["otlp"]["endpoint"]
        if auth["jwksUrl"]:
            url = urlsplit(auth["jwksUrl"])
            servers.append(await serve(jwks_app(url.path, state.identity_provider.jwks())))
            run.network.add(url.hostname, url.port or 443, Target(servers[-1][2], scheme="http"))
        if otlp:
            servers.append(await serve(collector.app()))
            run.network.add(urlsplit(otlp).hostname, urlsplit(otlp).port, Target(servers[-1][2]))
        await run.databases()
        statefulsets = [p for p in rendered.pods() if p.owner["kind"] == "StatefulSet"]
        nats_pods = [local for p in statefulsets for i in range(p.replicas) for local in run.plan(p, i)]
        if not statefulsets:
            (outside,) = [o for o in state.prerequisites.outside if o["name"] == "NATS"]
            external = ExternalNats(tmp_path / "external-nats", rendered.values["province"],
                                    {u: state.password(u) for u in ("admin", *rendered.services())})
            (tmp_path / "external-nats").mkdir()
            external.start()
            run.network.add(outside["host"], outside["port"], Target(external.client_ports[0]))
        (job,) = [local for p in rendered.pods() if p.owner["kind"] == "Job" for local in run.plan(p)]
        services = {local.pod.component: local for p in rendered.pods() if p.owner["kind"] == "Deployment"
                    for local in run.plan(p)}
        run.register_services()

        for local in nats_pods:
            run.start(local)
        await asyncio.gather(*(run.ready(local, READY_TIMEOUT) for local in nats_pods))
        run.start(job)
        try:
            await run.run_to_completion(job, retries=job.pod.owner["spec"]["backoffLimit"], timeout=60)
        except AssertionError as failed:  # what the NATS servers said tells why JetStream was not there
            raise AssertionError("\n\n".join([str(failed), *(f"{n.name}:\n{n.tail(15)}" for n in nats_pods)]))
        for name, local in services.items():
            run.start(local, {"HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(local.port("http")),
                              **({"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"} if name == "notification" else {})})
        await asyncio.gather(*(run.ready(local, READY_TIMEOUT) for local in services.values()))

        # The story, through the profile's routes when it has them, else straight to each Service.
        if rendered.of("HTTPRoute") or rendered.of("Ingress"):
            servers.append(await serve(gateway_app(rendered, run.network, client)))
            urls = dict.fromkeys(services, f"http://127.0.0.1:{servers[-1][2]}")
        else:
            urls = {name: f"http://127.0.0.1:{local.port('http')}" for name, local in services.items()}
        receiver = await WebhookReceiver().start()
        try:
            outcome = await play(urls, receiver, state.identity_provider, organisations=ORGANISATIONS[:2],
                                 learners_each=3, timeout=60)
        except httpx.HTTPStatusError as refused:
            raise AssertionError(f"{refused}\n{refused.response.text}\n" + "\n".join(
                f"--- {n}\n{local.tail(15)}" for n, local in services.items())) from None
        assert outcome.ok, (outcome, {n: local.tail(15) for n, local in services.items()})
        assert all(r.verified for received in receiver.received.values() for r in received)

        # The console, where the profile has it: on its own host, it asks assessment (at the in-cluster name the
        # chart gave it) whether a certificate is genuine; a page of its own answers in Vietnamese.
        if "console" in services:
            host = rendered.values["services"]["console"]["publicHostnames"][0]
            r = await client.get(f"{urls['console']}/verify/ABCD-EFGH", headers={"host": host})
            assert r.status_code == 200 and r.json()["status"] == "unknown", (r.status_code, r.text[:300],
                                                                               services["console"].tail(15))
            r = await client.get(f"{urls['console']}/verify/ABCD-EFGH",
                                 headers={"host": host, "accept": "text/html"})
            assert r.status_code == 404 and "Xác minh giấy chứng nhận" in r.text, r.text[:300]
            r = await client.get(f"{urls['console']}/classes", headers={"host": host}, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/sign-in"), r.status_code

        # The streams as the topology Job made them for this profile.
        job_env = state.env(job.pod, job.container, job.name)
        admin = run.network.rewrite(job_env["NATS_URL"])
        tls = ssl.create_default_context(cadata=state.ca.pem) if admin.startswith("tls://") else None
        for name, config in (await _streams(admin, tls)).items():
            assert config.num_replicas == int(job_env["NATS_STREAM_REPLICAS"]), name
            assert config.max_bytes == int(job_env["NATS_STREAM_MAX_BYTES"]) and config.discard == DiscardPolicy.NEW, name
        if otlp:
            for _ in range(100):
                if set(services) <= set(collector.services):
                    break
                await asyncio.sleep(0.2)
            assert set(services) <= set(collector.services), collector.services
    finally:
        run.stop()
        if external:
            external.stop()
        if receiver:
            await receiver.stop()
        for server, task, _ in servers:
            await shut(server, task)
        await client.aclose()
