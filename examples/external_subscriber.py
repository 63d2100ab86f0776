"""Follow one training centre's events, as another provincial system would: every event its scheduling,
enrolment and assessment publish, printed as one JSON envelope a line (event_id, event_type, schema_version,
occurred_at, province, centre, stream_id, stream_version, correlation_id, ..., payload).

    python examples/external_subscriber.py nats://USER:PASSWORD@127.0.0.1:4222 --centre hau-loc
    python examples/external_subscriber.py nats://USER:PASSWORD@127.0.0.1:4222 --centre hau-loc --new-only

USER is a read-only subscriber user (`make run` prints the local one; see examples/README.md). It may only create
consumers of its own, *named* and *filtered* on its centres' subjects, and receive on its own inbox prefix,
`_INBOX_ext_<USER>` (set with --inbox-prefix if yours differs). So on each of the streams SCHEDULING, ENROLMENT and
ASSESSMENT this creates an ephemeral push consumer (no acks, flow control, heartbeats; the server removes it
within 25 s of the example stopping) and keeps it in order itself: after a gap or silence it creates a new one, under a new name, from
the next stream sequence. (nats-py's `ordered_consumer=True` would recreate under the same name, which the server
refuses.) It acknowledges nothing and changes nothing. Only the standard nats-py client is needed
(`pip install nats-py`), not this project's code. Events arrive in order per stream; across the three streams,
order them by `occurred_at`, and use `event_id` to drop any event seen twice. Stop with Ctrl-C.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

STREAMS = {"SCHEDULING": "scheduling", "ENROLMENT": "enrolment", "ASSESSMENT": "assessment"}
HEARTBEAT = 5.0  # seconds; two missed in a row and the consumer is recreated

OnEvent = Callable[[str, dict[str, Any]], Awaitable[None]]


async def print_envelope(stream: str, envelope: dict[str, Any]) -> None:
    print(json.dumps(envelope, ensure_ascii=False), flush=True)


def subject(province: str, centre: str, context: str) -> str:
    """The centre's events of one context: ttct.<province>.<centre>.<context>.<EventType>."""
    return f"ttct.{province}.{centre}.{context}.>"


def inbox_prefix(url: str) -> str:
    """The inbox prefix the subscriber user `USER` of `url` may receive on: _INBOX_ext_<USER>."""
    user = unquote(urlsplit(url).username or "")
    return f"_INBOX_ext_{user}" if user else "_INBOX"


class Follower:
    """One stream's events of one centre, in order, through a succession of ephemeral named push consumers."""

    def __init__(self, nc, stream: str, filter_subject: str, on_event: OnEvent, *, new_only: bool, tag: str):
        self.nc, self.js, self.stream, self.filter = nc, nc.jetstream(), stream, filter_subject
        self.on_event, self.new_only, self.tag = on_event, new_only, tag
        self.last = 0  # stream sequence of the last event delivered; 0: none yet
        self.expected = 1  # the consumer sequence the next message must have
        self.sub = None
        self.generation = 0  # of the current consumer: messages of an abandoned one are ignored
        self.alive = False
        self.tasks: set[asyncio.Task] = set()
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        await self._create()
        self._spawn(self._watch())

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.sub:
            await self.sub.unsubscribe()  # the server removes the ephemeral consumer once nobody listens

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _create(self) -> None:
        if self.sub:
            await self.sub.unsubscribe()
        self.generation += 1
        self.expected, self.alive = 1, True
        deliver = self.nc.new_inbox()
        self.sub = await self.nc.subscribe(deliver, cb=self._receiver(self.generation))
        if self.last:
            start = {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": self.last + 1}
        else:
            start = {"deliver_policy": DeliverPolicy.NEW if self.new_only else DeliverPolicy.ALL}
        # A fresh name each time: the name and the filter make up the request's subject, which is all the
        # permissions can check (they allow only this centre's filters).
        config = ConsumerConfig(
            name=f"{self.tag}-{self.stream.lower()}-{uuid.uuid4().hex[:12]}", filter_subject=self.filter,
            deliver_subject=deliver, ack_policy=AckPolicy.NONE, max_deliver=1, flow_control=True,
            idle_heartbeat=HEARTBEAT, inactive_threshold=5 * HEARTBEAT, mem_storage=True, num_replicas=1, **start)
        await self.js.add_consumer(self.stream, config)

    def _receiver(self, generation: int):
        async def receive(msg) -> None:
            if generation == self.generation:
                await self._receive(msg)
        return receive

    async def _receive(self, msg) -> None:
        self.alive = True
        if msg.headers and msg.headers.get("Status") == "100":  # a heartbeat or a flow-control request
            if msg.reply:  # flow control: answer, or the server stops delivering
                await self.nc.publish(msg.reply)
            elif stalled := msg.headers.get("Nats-Consumer-Stalled"):
                await self.nc.publish(stalled)
            return
        meta = msg.metadata
        if meta.sequence.consumer != self.expected:  # a message was lost (slow client, reconnect): start over
            self.generation += 1  # ignore the rest of this consumer's messages
            self._spawn(self._restart())  # not here: unsubscribing would cancel this very callback's task
            return
        self.expected += 1
        self.last = meta.sequence.stream
        try:
            envelope = json.loads(msg.data)
        except ValueError:
            print(f"skipped a message that is not JSON on {msg.subject}", file=sys.stderr)
            return
        await self.on_event(self.stream, envelope)

    async def _restart(self) -> None:
        async with self.lock:
            try:
                await self._create()
            except Exception as exc:  # e.g. disconnected: the watchdog tries again
                self.alive = False
                print(f"{self.stream}: could not recreate the consumer ({exc!r}); retrying", file=sys.stderr)

    async def _watch(self) -> None:
        while True:
            self.alive = False
            await asyncio.sleep(2 * HEARTBEAT)
            if not self.alive and self.nc.is_connected:  # no heartbeat: the consumer is gone (server restart)
                await self._restart()


async def follow(url: str, province: str, centre: str, stop: asyncio.Event, *, on_event: OnEvent = print_envelope,
                 new_only: bool = False, inbox: str | None = None) -> None:
    """Deliver every event of `centre` (from the start of each stream, or only new ones) to `on_event` until
    `stop` is set. The URL carries the credentials of the NATS user it connects as."""
    prefix = inbox or inbox_prefix(url)

    async def report(exc: Exception) -> None:  # e.g. the server's "Permissions Violation for Publish to ..."
        print(f"nats: {exc}", file=sys.stderr)

    # a cluster's URLs, comma-separated, are its servers to fail over between
    nc = await nats.connect(servers=[u.strip() for u in url.split(",")], name=f"ttct-external-subscriber-{centre}", max_reconnect_attempts=-1,
                            inbox_prefix=prefix.encode(), error_cb=report)
    tag = re.sub(r"[^A-Za-z0-9_-]", "-", unquote(urlsplit(url).username or "ext"))  # a consumer name's characters
    followers = [Follower(nc, stream, subject(province, centre, context), on_event, new_only=new_only, tag=tag)
                 for stream, context in STREAMS.items()]
    try:
        for follower in followers:
            await follower.start()
        await stop.wait()
    finally:
        for follower in followers:
            await follower.stop()
        await nc.drain()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the NATS URL with the credentials of your user, e.g. nats://user:pass@host:4222 "
                                    "(`make run` prints the local one)")
    parser.add_argument("--province", default="thanh-hoa")
    parser.add_argument("--centre", required=True, help="the centre's code, e.g. hau-loc")
    parser.add_argument("--new-only", action="store_true", help="only events published from now on")
    parser.add_argument("--inbox-prefix", help="the inbox prefix your user may subscribe to (default _INBOX_ext_<USER>)")
    args = parser.parse_args(argv)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await follow(args.url, args.province, args.centre, stop, new_only=args.new_only, inbox=args.inbox_prefix)

    try:
        asyncio.run(run())
    except NatsTimeout:  # the server drops a request the user may not make: no answer comes
        sys.exit(f"no answer to creating a consumer: may this user follow centre {args.centre} of province "
                 f"{args.province}? (examples/README.md)")


if __name__ == "__main__":
    main()
