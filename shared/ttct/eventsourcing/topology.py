"""The JetStream topology, declared once: which stream each context publishes to, which streams each service
reads, and the durable consumers that carry them. `python -m ttct.eventsourcing.topology apply` creates or updates it.
"""
from __future__ import annotations

import argparse
import asyncio
import os

import nats
import structlog
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError, ServiceUnavailableError

from ttct.operations.settings import nats_servers

PUBLISHES: dict[str, str] = {
    "scheduling": "SCHEDULING",
    "enrolment": "ENROLMENT",
    "assessment": "ASSESSMENT",
}
READS: dict[str, tuple[str, ...]] = {
    # scheduling keeps of enrolment's events only the register of centres (ttct.centres), for its access checks
    "scheduling": ("enrolment",),
    "enrolment": ("scheduling",),
    "assessment": ("scheduling", "enrolment"),
    "notification": ("scheduling", "enrolment", "assessment"),
}


def stream_config(context: str, replicas: int = 1, max_bytes: int | None = None) -> StreamConfig:
    limit = int(os.getenv("NATS_STREAM_MAX_BYTES", "0")) if max_bytes is None else max_bytes
    return StreamConfig(
        name=PUBLISHES[context],
        subjects=[f"ttct.*.*.{context}.>"],
        storage=StorageType.FILE,
        duplicate_window=120.0,
        num_replicas=replicas,  # 3 on a production cluster (NATS_STREAM_REPLICAS), 1 on one local server
        # A full stream refuses new events rather than dropping old ones a consumer may not have read: the outbox
        # keeps them in PostgreSQL and retries. No age limit: a projection rebuild replays from the first event.
        max_bytes=limit or -1,
        discard=DiscardPolicy.NEW,
    )


def filter_subject(context: str, province: str, centre: str = "*") -> str:
    return f"ttct.{province}.{centre}.{context}.>"


def durable_name(reader: str, province: str) -> str:
    """One durable per reading service and province, so provinces sharing a cluster never take each other's."""
    return f"{reader}-{province}"


def consumer_config(reader: str, context: str, province: str, *, ack_wait: float = 30.0) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=durable_name(reader, province),
        filter_subject=filter_subject(context, province),
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        # Unlimited: an event waiting for its predecessor is redelivered many times, and JetStream must never
        # give up on it silently. The service counts real failures itself and dead-letters at its own limit.
        max_deliver=-1,
        max_ack_pending=10_000,
    )


def configured_replicas() -> int | None:
    """NATS_STREAM_REPLICAS, or None when it is not set (a local server: 1 for a new stream)."""
    given = os.getenv("NATS_STREAM_REPLICAS", "").strip()
    return int(given) if given else None


async def ensure_stream(js: JetStreamContext, context: str, replicas: int | None = None) -> None:
    """Create the stream or bring its settings up to date. An existing stream keeps its replicas unless they are
    asked for (the argument, or NATS_STREAM_REPLICAS): a service started without the variable must never scale a
    production R3 stream down to one copy."""
    wanted = replicas or configured_replicas()
    try:
        info = await js.stream_info(PUBLISHES[context])
    except NotFoundError:
        await js.add_stream(stream_config(context, wanted or 1))
        return
    await js.update_stream(stream_config(context, wanted or info.config.num_replicas or 1))


async def ensure_consumers(js: JetStreamContext, reader: str, province: str, *, ack_wait: float = 30.0) -> None:
    for context in READS[reader]:
        await ensure_stream(js, context)
        await js.add_consumer(
            PUBLISHES[context], consumer_config(reader, context, province, ack_wait=ack_wait)
        )


# What a JetStream answers while it cannot yet take a request: a cluster still electing its meta leader (503),
# no server with JetStream yet (no responders), a request lost in a leader change (timeout).
NOT_YET_AVAILABLE = (ServiceUnavailableError, NoRespondersError, NatsTimeoutError)
log = structlog.get_logger("ttct.topology")


async def apply(nats_url: str, province: str, *, wait: float = 0.0) -> None:
    """Create or update every stream and consumer. With `wait`, a JetStream not yet available (a cluster whose
    servers are still finding each other) is asked again until it answers or `wait` seconds have passed; the
    steps are idempotent, so starting over after a leader change mid-way is safe."""
    deadline = asyncio.get_running_loop().time() + wait
    pause = 0.5
    nc = await nats.connect(servers=nats_servers(nats_url))
    try:
        js = nc.jetstream()
        while True:
            try:
                for context in PUBLISHES:
                    await ensure_stream(js, context)
                for reader in READS:
                    await ensure_consumers(js, reader, province)
                return
            except NOT_YET_AVAILABLE as error:
                if asyncio.get_running_loop().time() + pause > deadline:
                    raise
                log.info("jetstream_not_yet_available", error=type(error).__name__, retry_in_s=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
    finally:
        await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["apply"])
    parser.add_argument("--nats-url", default=os.getenv("NATS_URL", "nats://127.0.0.1:4222"))
    parser.add_argument("--province", default=os.getenv("PROVINCE_CODE"))
    parser.add_argument("--wait", type=float, default=float(os.getenv("TOPOLOGY_WAIT_SECONDS", "120")),
                        help="seconds to keep asking a JetStream that is not yet available (a forming cluster)")
    args = parser.parse_args()
    if not args.province:
        parser.error("PROVINCE_CODE (or --province) is required")
    asyncio.run(apply(args.nats_url, args.province, wait=args.wait))


if __name__ == "__main__":
    main()
