"""The topology on a three-server NATS cluster: NATS_URL naming every server, and replicas that a service
started without NATS_STREAM_REPLICAS never takes away."""
import asyncio

import nats
import pytest
from nats_cluster import NatsCluster
from ttct.eventsourcing import topology
from ttct.operations.settings import nats_servers

pytestmark = pytest.mark.integration


@pytest.fixture
async def cluster(tmp_path):
    nodes = await NatsCluster(tmp_path).start()
    try:
        yield nodes
    finally:
        nodes.stop()


async def _replicas(url: str, stream: str) -> int:
    nc = await nats.connect(servers=nats_servers(url))
    try:
        for _ in range(100):
            try:
                return (await nc.jetstream().stream_info(stream)).config.num_replicas
            except Exception:  # the stream's leader being elected
                await asyncio.sleep(0.1)
        raise AssertionError(f"no {stream}")
    finally:
        await nc.close()


async def test_a_cluster_url_applies_the_topology_and_an_unset_replicas_never_scales_a_stream_down(
        cluster, province, monkeypatch):
    monkeypatch.setenv("NATS_STREAM_REPLICAS", "3")  # the production profile
    await topology.apply(cluster.url, province)
    assert await _replicas(cluster.url, "ENROLMENT") == 3

    monkeypatch.delenv("NATS_STREAM_REPLICAS")  # a service or a tool started without it
    await topology.apply(cluster.url, province)
    nc = await nats.connect(servers=nats_servers(cluster.url))
    try:
        await topology.ensure_consumers(nc.jetstream(), "notification", province)
    finally:
        await nc.close()
    assert {s: await _replicas(cluster.url, s) for s in topology.PUBLISHES.values()} == {
        "SCHEDULING": 3, "ENROLMENT": 3, "ASSESSMENT": 3}


async def test_a_new_stream_on_one_server_has_one_replica(nc, monkeypatch):
    monkeypatch.delenv("NATS_STREAM_REPLICAS", raising=False)
    await topology.ensure_stream(nc.jetstream(), "scheduling")
    assert (await nc.jetstream().stream_info("SCHEDULING")).config.num_replicas == 1


async def test_a_service_given_the_clusters_urls_starts_and_leaves_the_replicas_alone(
        cluster, database, province, tmp_path, monkeypatch):
    import httpx
    from scheduling.bootstrap import create_app
    from scheduling.settings import SchedulingSettings
    from ttct_dev.tokens import LocalIssuer

    monkeypatch.setenv("NATS_STREAM_REPLICAS", "3")
    await topology.apply(cluster.url, province)
    monkeypatch.delenv("NATS_STREAM_REPLICAS")
    issuer = LocalIssuer(tmp_path)
    app = create_app(SchedulingSettings(database_url=database, nats_url=cluster.url, province_code=province,
                                        auth_public_key_file=str(issuer.public_key_file)))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        assert (await http.get("/healthz/ready")).json()["nats"] is True
    assert await _replicas(cluster.url, "SCHEDULING") == 3


async def test_apply_waits_for_a_cluster_still_forming_instead_of_failing(tmp_path, province, monkeypatch):
    """A StatefulSet's servers come up one by one: until two of three have met, JetStream answers 503 to
    everything. The topology Job asked then must wait for the cluster, not fail on the first answer."""
    monkeypatch.setenv("NATS_STREAM_REPLICAS", "3")
    nodes = NatsCluster(tmp_path)
    try:
        nodes.spawn(0)
        lonely = f"nats://127.0.0.1:{nodes.ports[0][0]}"
        with pytest.raises(topology.NOT_YET_AVAILABLE):  # without waiting, the lone server's answer is final
            await topology.apply(lonely, province)
        applying = asyncio.create_task(topology.apply(lonely, province, wait=90))
        await asyncio.sleep(2)
        assert not applying.done()
        nodes.spawn(1)
        nodes.spawn(2)
        await asyncio.wait_for(applying, 90)
        assert await _replicas(nodes.url, "ENROLMENT") == 3
    finally:
        nodes.stop()
