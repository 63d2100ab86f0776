"""Follow one training centre's events, as another provincial system would: every event its scheduling,
enrolment and assessment publish, printed as one JSON envelope a line (event_id, event_type, schema_version,
occurred_at, province, centre, stream_id, stream_version, correlation_id, ..., payload).

    python examples/external_subscriber.py nats://USER:PASSWORD@127.0.0.1:4222 --centre hau-loc
    python examples/external_subscriber.py nats://127.0.0.1:4222 --centre hau-loc --new-only

It reads the streams SCHEDULING, ENROLMENT and ASSESSMENT through ordered consumers: ephemeral (nothing to clean
up, nothing left on the server when it stops), in stream order, recreated by the client after a gap. It
acknowledges nothing and changes nothing. Only the standard nats-py client is needed (`pip install nats-py`), not
this project's code. Events arrive in order per stream; across the three streams, order them by `occurred_at`,
and use `event_id` to drop any event seen twice. Stop with Ctrl-C.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import nats
from nats.js.api import DeliverPolicy

STREAMS = {"SCHEDULING": "scheduling", "ENROLMENT": "enrolment", "ASSESSMENT": "assessment"}

OnEvent = Callable[[str, dict[str, Any]], Awaitable[None]]


async def print_envelope(stream: str, envelope: dict[str, Any]) -> None:
    print(json.dumps(envelope, ensure_ascii=False), flush=True)


def subject(province: str, centre: str, context: str) -> str:
    """The centre's events of one context: ttct.<province>.<centre>.<context>.<EventType>."""
    return f"ttct.{province}.{centre}.{context}.>"


async def follow(url: str, province: str, centre: str, stop: asyncio.Event, *, on_event: OnEvent = print_envelope,
                 new_only: bool = False) -> None:
    """Deliver every event of `centre` (from the start of each stream, or only new ones) to `on_event` until
    `stop` is set. The URL carries the credentials of the NATS user it connects as."""
    nc = await nats.connect(url, name=f"ttct-external-subscriber-{centre}", max_reconnect_attempts=-1)
    js = nc.jetstream()
    try:
        for stream, context in STREAMS.items():
            async def deliver(msg, stream: str = stream) -> None:
                try:
                    envelope = json.loads(msg.data)
                except ValueError:
                    print(f"skipped a message that is not JSON on {msg.subject}", file=sys.stderr)
                    return
                await on_event(stream, envelope)

            await js.subscribe(subject(province, centre, context), stream=stream, ordered_consumer=True,
                               deliver_policy=DeliverPolicy.NEW if new_only else DeliverPolicy.ALL, cb=deliver)
        await stop.wait()
    finally:
        await nc.drain()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the NATS URL with the credentials of your user, e.g. nats://user:pass@host:4222 "
                                    "(`make run` prints the local one)")
    parser.add_argument("--province", default="thanh-hoa")
    parser.add_argument("--centre", required=True, help="the centre's code, e.g. hau-loc")
    parser.add_argument("--new-only", action="store_true", help="only events published from now on")
    args = parser.parse_args(argv)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await follow(args.url, args.province, args.centre, stop, new_only=args.new_only)

    asyncio.run(run())


if __name__ == "__main__":
    main()
