"""Each service's NATS user may publish only its own events and use only its own durable consumers
(shared/ttct/eventsourcing/nats_permissions.py), on the session's stack, whose nats-server runs with those users."""
from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NotFoundError
from nats_users import AsNatsUser
from ttct.eventsourcing.nats_permissions import (CHART_FILE, CHART_PROVINCE, OWN_READERS, as_json, inbox_prefix,
                                                permissions)
from ttct.eventsourcing.topology import PUBLISHES, READS, consumer_config, durable_name, ensure_consumers, ensure_stream
from ttct_dev.stack import ensure_nats_province

pytestmark = pytest.mark.integration

DENIED = (NatsTimeout, asyncio.TimeoutError)  # a refused request is dropped by the server: no reply comes


def As(url: str) -> AsNatsUser:
    """A connection as a service's user, with the inbox prefix ttct.operations.runtime gives it (the admin: the default)."""
    user = urlsplit(url).username or ""
    return AsNatsUser(url, inbox_prefix(user) if user and user != "admin" else "_INBOX")


@pytest.fixture
async def users(stack, province) -> dict[str, str]:
    """The services' URLs, with the rights of this test's own province, and its topology applied by the admin."""
    if not stack.nats_users:
        pytest.skip("NATS_URL names the server: the stack made no users")
    await asyncio.to_thread(ensure_nats_province, stack, province)
    nc = await nats.connect(stack.nats_url)
    try:
        js = nc.jetstream()
        for context in PUBLISHES:
            await ensure_stream(js, context)
        for reader in READS:
            await ensure_consumers(js, reader, province)
    finally:
        await nc.close()
    return stack.nats_users


@pytest.fixture
async def admin(stack):
    nc = await nats.connect(stack.nats_url)
    yield nc.jetstream()
    await nc.close()


async def test_a_service_cannot_publish_another_services_events(users, admin, province):
    subject = f"ttct.{province}.hau-loc.enrolment.LearnerEnrolled"
    async with As(users["scheduling"]) as scheduling:
        with pytest.raises(DENIED):
            await scheduling.js.publish(subject, b"{}", headers={"Nats-Msg-Id": "forged-1"})
        assert await scheduling.violated(f'publish to "{subject}"')
        # nor its own context's events of another province
        with pytest.raises(DENIED):
            await scheduling.js.publish("ttct.other-province.hau-loc.scheduling.ClassOpened", b"{}")
    with pytest.raises(NotFoundError):
        await admin.get_last_msg("ENROLMENT", subject)  # nothing was stored


async def test_a_service_publishes_its_own_events_and_keeps_its_own_stream(users, province):
    async with As(users["scheduling"]) as scheduling:
        ack = await scheduling.js.publish(f"ttct.{province}.hau-loc.scheduling.ClassOpened", b"{}")
        assert ack.stream == "SCHEDULING"
        await ensure_stream(scheduling.js, "scheduling")  # PROVISION=true: info and update of its own stream
        assert scheduling.errors == []


async def test_a_service_cannot_delete_or_change_a_stream(users, admin):
    async with As(users["scheduling"]) as scheduling, As(users["enrolment"]) as enrolment:
        for who, stream in ((scheduling, "SCHEDULING"), (enrolment, "SCHEDULING"), (enrolment, "ENROLMENT")):
            with pytest.raises(DENIED):
                await who.js.delete_stream(stream)
            assert await who.violated(f'"$JS.API.STREAM.DELETE.{stream}"')
        with pytest.raises(DENIED):  # a reader may not change the streams it reads
            await enrolment.js.update_stream(name="SCHEDULING", subjects=["ttct.>"])
        with pytest.raises(DENIED):
            await enrolment.js.purge_stream("SCHEDULING")
    assert (await admin.stream_info("SCHEDULING")).config.subjects == ["ttct.*.*.scheduling.>"]


async def test_a_service_cannot_use_another_services_consumer(users, province):
    theirs = durable_name("notification", province)
    async with As(users["enrolment"]) as enrolment:
        with pytest.raises(DENIED):
            await enrolment.js.add_consumer("SCHEDULING", consumer_config("notification", "scheduling", province))
        assert await enrolment.violated(f"$JS.API.CONSUMER.DURABLE.CREATE.SCHEDULING.{theirs}")
        with pytest.raises(DENIED):  # nor an unnamed (ephemeral) one, nor another's consumer's info
            await enrolment.js.add_consumer("SCHEDULING", filter_subject=f"ttct.{province}.*.scheduling.>")
        with pytest.raises(DENIED):
            await enrolment.js.consumer_info("SCHEDULING", theirs)
        pull = await enrolment.js.pull_subscribe_bind(theirs, "SCHEDULING")
        with pytest.raises(DENIED):
            await pull.fetch(1, timeout=1)
        assert await enrolment.violated(f"$JS.API.CONSUMER.MSG.NEXT.SCHEDULING.{theirs}")
        await enrolment.nc.subscribe("ttct.>")  # eavesdropping on the events is refused too
        assert await _eventually(lambda: enrolment.violated('subscription to "ttct.>"'))


async def test_a_service_creates_and_consumes_its_own_durable(users, province):
    subject = f"ttct.{province}.hau-loc.scheduling.ClassOpened"
    async with As(users["scheduling"]) as scheduling:
        await scheduling.js.publish(subject, b'{"probe": 1}')
    mine = durable_name("enrolment", province)
    async with As(users["enrolment"]) as enrolment:
        await enrolment.js.add_consumer("SCHEDULING", consumer_config("enrolment", "scheduling", province))
        pull = await enrolment.js.pull_subscribe_bind(mine, "SCHEDULING")
        (msg,) = await pull.fetch(1, timeout=5)
        assert (msg.subject, msg.data) == (subject, b'{"probe": 1}')
        await msg.ack_sync(timeout=5)
        info = await enrolment.js.consumer_info("SCHEDULING", mine)
        assert info.num_ack_pending == 0 and info.ack_floor.stream_seq == msg.metadata.sequence.stream
        assert enrolment.errors == []


async def test_a_service_reads_a_stream_again_for_its_rebuild(users, province):
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
    from ttct.admin.commands import REBUILD_IDLE, rebuild_consumer
    from ttct.eventsourcing.topology import filter_subject

    subject = f"ttct.{province}.hau-loc.scheduling.ClassOpened"
    async with As(users["scheduling"]) as scheduling:
        await scheduling.js.publish(subject, b'{"probe": 2}')
    name = rebuild_consumer(durable_name("enrolment", province))
    async with As(users["enrolment"]) as enrolment:  # as `ttct.admin enrolment rebuild` does
        await enrolment.js.add_consumer("SCHEDULING", ConsumerConfig(
            name=name, ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, mem_storage=True,
            inactive_threshold=REBUILD_IDLE, filter_subject=filter_subject("scheduling", province)))
        pull = await enrolment.js.pull_subscribe_bind(consumer=name, stream="SCHEDULING")
        (msg,) = await pull.fetch(1, timeout=5)
        await enrolment.js.delete_consumer("SCHEDULING", name)
        assert msg.data == b'{"probe": 2}' and enrolment.errors == []


async def _eventually(check, timeout: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@pytest.mark.unit
def test_the_users_rights_follow_the_topology():
    users = permissions("thanh-hoa")
    assert set(users) == {"admin", *READS}
    for service, rights in users.items():
        publish = rights["publish"]["allow"]
        events = [s for s in publish if s.startswith("ttct.")]
        if service == "admin":
            assert publish == [">"]
            continue
        assert events == ([f"ttct.thanh-hoa.*.{service}.>"] if service in PUBLISHES else [])
        assert rights["subscribe"]["allow"] == [f"_INBOX_{service}.>"]
        own = {f"{service}-thanh-hoa", f"{service}-thanh-hoa-rebuild",
               *(f"{service}-thanh-hoa-{reader}" for reader in OWN_READERS.get(service, ()))}
        assert not [s for s in publish if ".DELETE." in s and s.rsplit(".", 1)[1] not in own]
        consumers = {s.rsplit(".", 1)[1] for s in publish if s.startswith("$JS.API.CONSUMER.INFO.")}
        assert consumers <= own - {f"{service}-thanh-hoa-rebuild"}
        assert {s.split(".")[5] for s in publish if s.startswith("$JS.API.CONSUMER.MSG.NEXT.")} == {
            PUBLISHES[c] for c in READS[service]}


@pytest.mark.unit
def test_the_helm_charts_permission_file_is_current():
    chart_file = Path(__file__).resolve().parents[2] / CHART_FILE
    assert chart_file.read_text() == as_json(CHART_PROVINCE), (
        "regenerate it: python -m ttct.eventsourcing.nats_permissions --province __PROVINCE__ --format json "
        f"--output {CHART_FILE}")
