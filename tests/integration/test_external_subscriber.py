"""The example external subscriber (examples/external_subscriber.py) follows one centre's events on the real NATS,
connected as the stack's read-only subscriber user (`subscriber-hau-loc`, ttct.eventsourcing.nats_permissions.subscriber_permissions):
it sees what is published for its centre, on each of the three streams, and nothing of another centre. And that
user, on the same server, can do nothing else: no consumer on another centre's subjects, no event published, no
stream deleted, no service's inbox or durable touched."""
from __future__ import annotations

import asyncio
import importlib.util
import json
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError
from nats_users import AsNatsUser
from ttct.eventsourcing.nats_permissions import subscriber_inbox_prefix
from ttct.eventsourcing.topology import PUBLISHES, READS, consumer_config, durable_name, ensure_consumers, ensure_stream
from ttct_dev.stack import SUBSCRIBERS, ensure_nats_province

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "tests/contract/samples/ClassOpened.v1.json").read_text())
SUBSCRIBER = "subscriber-hau-loc"  # the stack's read-only user, for centre hau-loc
DENIED = (NatsTimeout, asyncio.TimeoutError)  # a refused request is dropped by the server: no reply comes


def _example():
    spec = importlib.util.spec_from_file_location("external_subscriber", ROOT / "examples/external_subscriber.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def topology(stack, province, nc):
    """This test's province: its rights given to the stack's users, its streams and the services' durables made."""
    await asyncio.to_thread(ensure_nats_province, stack, province)
    js = nc.jetstream()
    for context in PUBLISHES:
        await ensure_stream(js, context)
    for reader in READS:
        await ensure_consumers(js, reader, province)
    return js


@pytest.fixture
def subscriber_url(stack) -> str:
    if not stack.nats_subscribers:
        pytest.skip("NATS_URL names the server: the stack made no users")
    assert SUBSCRIBERS[SUBSCRIBER] == ("hau-loc",)
    return stack.nats_subscribers[SUBSCRIBER]


def AsSubscriber(url: str) -> AsNatsUser:
    """A connection as the subscriber user, with its own inbox prefix."""
    return AsNatsUser(url, subscriber_inbox_prefix(urlsplit(url).username))


async def test_the_example_prints_its_centres_events_from_every_stream(topology, subscriber_url, province, capsys):
    example = _example()
    assert example.inbox_prefix(subscriber_url) == subscriber_inbox_prefix(SUBSCRIBER)  # what its user may use
    published = {}
    for context in PUBLISHES:
        for centre in ("hau-loc", "nga-son"):
            envelope = {**SAMPLE, "event_id": str(uuid.uuid4()), "province": province, "centre": centre}
            subject = f"ttct.{province}.{centre}.{context}.{SAMPLE['event_type']}"
            await topology.publish(subject, json.dumps(envelope).encode())
            published.setdefault(centre, []).append(envelope["event_id"])

    seen: list[tuple[str, dict]] = []
    stop = asyncio.Event()

    async def collect(stream: str, envelope: dict) -> None:
        seen.append((stream, envelope))
        await example.print_envelope(stream, envelope)
        if len(seen) == len(PUBLISHES):
            stop.set()

    follower = asyncio.create_task(example.follow(subscriber_url, province, "hau-loc", stop, on_event=collect))
    try:
        await asyncio.wait_for(stop.wait(), timeout=10)
        await asyncio.sleep(0.3)  # anything of another centre would have come by now
    finally:
        stop.set()
        await asyncio.wait_for(follower, timeout=10)

    assert sorted(stream for stream, _ in seen) == sorted(PUBLISHES.values())
    assert sorted(e["event_id"] for _, e in seen) == sorted(published["hau-loc"])
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {e["event_id"] for e in printed} == set(published["hau-loc"])
    assert all(e["payload"] == SAMPLE["payload"] for e in printed)


async def test_the_example_goes_on_with_new_events_only_when_asked(topology, subscriber_url, province):
    example = _example()
    old = f"ttct.{province}.hau-loc.scheduling.ClassOpened"
    await topology.publish(old, json.dumps({**SAMPLE, "event_id": "before"}).encode())
    seen, stop = [], asyncio.Event()

    async def collect(stream: str, envelope: dict) -> None:
        seen.append(envelope["event_id"])
        stop.set()

    follower = asyncio.create_task(
        example.follow(subscriber_url, province, "hau-loc", stop, on_event=collect, new_only=True))
    try:
        await asyncio.sleep(1)  # its consumers exist
        await topology.publish(old, json.dumps({**SAMPLE, "event_id": "after"}).encode())
        await asyncio.wait_for(stop.wait(), timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(follower, timeout=10)
    assert seen == ["after"]


async def test_the_example_carries_on_when_its_consumer_is_lost(topology, subscriber_url, province):
    """As after a NATS restart (its consumers are in memory): it makes new ones, from where it was, unasked."""
    example = _example()
    example.HEARTBEAT = 0.5  # the server's heartbeats, and the watchdog's two missed ones, come sooner
    subject = f"ttct.{province}.hau-loc.scheduling.ClassOpened"
    seen, stop = [], asyncio.Event()

    async def collect(stream: str, envelope: dict) -> None:
        seen.append(envelope["event_id"])

    follower = asyncio.create_task(example.follow(subscriber_url, province, "hau-loc", stop, on_event=collect))
    try:
        await topology.publish(subject, json.dumps({**SAMPLE, "event_id": "first"}).encode())
        await _until(lambda: seen == ["first"])
        for info in await topology.consumers_info("SCHEDULING"):
            if info.name.startswith(f"{SUBSCRIBER}-"):
                await topology.delete_consumer("SCHEDULING", info.name)
        await topology.publish(subject, json.dumps({**SAMPLE, "event_id": "second"}).encode())
        await _until(lambda: seen == ["first", "second"])
    finally:
        stop.set()
        await asyncio.wait_for(follower, timeout=10)
    assert seen == ["first", "second"]  # the second once, the first not again


async def _until(check, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_the_subscriber_cannot_follow_another_centre(topology, subscriber_url, province):
    async with AsSubscriber(subscriber_url) as sub:
        inbox = sub.nc.new_inbox()
        for other in (f"ttct.{province}.nga-son.scheduling.>", f"ttct.{province}.*.scheduling.>", "ttct.>"):
            config = ConsumerConfig(name=f"probe-{uuid.uuid4().hex[:8]}", filter_subject=other,
                                    deliver_subject=inbox, ack_policy=AckPolicy.NONE)
            with pytest.raises(DENIED):
                await sub.js.add_consumer("SCHEDULING", config)
            assert await sub.violated(f"$JS.API.CONSUMER.CREATE.SCHEDULING.{config.name}.{other}")
        with pytest.raises(DENIED):  # nor with nats-py's own ordered consumer (an unnamed, unfiltered request)
            await sub.js.subscribe(f"ttct.{province}.nga-son.scheduling.>", stream="SCHEDULING",
                                   ordered_consumer=True)
        # The subject it may use, with another centre's filter in the request: the server refuses the mismatch.
        subject = f"$JS.API.CONSUMER.CREATE.SCHEDULING.probe.ttct.{province}.hau-loc.scheduling.>"
        body = {"stream_name": "SCHEDULING", "config": {"name": "probe", "deliver_subject": inbox,
                                                        "filter_subject": f"ttct.{province}.nga-son.scheduling.>",
                                                        "ack_policy": "none"}}
        reply = json.loads((await sub.nc.request(subject, json.dumps(body).encode(), timeout=2)).data)
        assert reply["error"]["code"] == 400, reply
        # nor read a stream's messages through the API
        with pytest.raises(DENIED):
            await sub.js.get_msg("SCHEDULING", subject=f"ttct.{province}.nga-son.scheduling.ClassOpened")
        # nor eavesdrop on the events themselves
        await sub.nc.subscribe(f"ttct.{province}.hau-loc.>")
        assert await sub.violated(f'subscription to "ttct.{province}.hau-loc.>"')
    assert [c.name for c in await topology.consumers_info("SCHEDULING") if c.name.startswith("probe")] == []


async def test_the_subscriber_cannot_publish_an_event(topology, subscriber_url, province):
    subject = f"ttct.{province}.hau-loc.scheduling.ClassOpened"
    async with AsSubscriber(subscriber_url) as sub:
        with pytest.raises(DENIED):
            await sub.js.publish(subject, json.dumps(SAMPLE).encode(), headers={"Nats-Msg-Id": "forged-ext"})
        assert await sub.violated(f'publish to "{subject}"')
    with pytest.raises(NotFoundError):
        await topology.get_last_msg("SCHEDULING", subject)  # nothing was stored


async def test_the_subscriber_cannot_delete_or_purge_a_stream(topology, subscriber_url, province):
    await topology.publish(f"ttct.{province}.hau-loc.enrolment.LearnerEnrolled", b"{}")
    async with AsSubscriber(subscriber_url) as sub:
        for stream in PUBLISHES.values():
            with pytest.raises(DENIED):
                await sub.js.delete_stream(stream)
            assert await sub.violated(f'"$JS.API.STREAM.DELETE.{stream}"')
        with pytest.raises(DENIED):
            await sub.js.purge_stream("ENROLMENT")
        with pytest.raises(DENIED):
            await sub.js.update_stream(name="ENROLMENT", subjects=["ttct.>"])
    info = await topology.stream_info("ENROLMENT")
    assert info.config.subjects == ["ttct.*.*.enrolment.>"] and info.state.messages > 0


async def test_the_subscriber_cannot_touch_the_services_inboxes_or_durables(topology, subscriber_url, province):
    notification = durable_name("notification", province)
    async with AsSubscriber(subscriber_url) as sub:
        for inbox in ("_INBOX_scheduling.>", "_INBOX.>", "_INBOX_notification.abc"):
            await sub.nc.subscribe(inbox)
            assert await sub.violated(f'subscription to "{inbox}"')
        # A create naming a service's durable would update it (narrow its filter to this centre): refused.
        with pytest.raises(DENIED):
            await sub.js.add_consumer("SCHEDULING", ConsumerConfig(
                name=notification, durable_name=notification, filter_subject=f"ttct.{province}.hau-loc.scheduling.>",
                ack_policy=AckPolicy.EXPLICIT))
        # nor fetch from it, nor ack into it, nor create a durable of its own in the legacy form
        pull = await sub.js.pull_subscribe_bind(notification, "SCHEDULING")
        with pytest.raises(DENIED):
            await pull.fetch(1, timeout=1)
        assert await sub.violated(f"$JS.API.CONSUMER.MSG.NEXT.SCHEDULING.{notification}")
        await sub.nc.publish(f"$JS.ACK.SCHEDULING.{notification}.1.1.1.0.0", b"+ACK")
        assert await sub.violated(f"$JS.ACK.SCHEDULING.{notification}")
        with pytest.raises(DENIED):
            await sub.js.add_consumer("SCHEDULING", durable_name="mine",
                                      filter_subject=f"ttct.{province}.hau-loc.scheduling.>")
        assert await sub.violated("$JS.API.CONSUMER.DURABLE.CREATE.SCHEDULING.mine")
    expected = consumer_config("notification", "scheduling", province).filter_subject
    assert (await topology.consumer_info("SCHEDULING", notification)).config.filter_subject == expected
