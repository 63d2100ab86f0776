"""FastStream batch pull subscribers that hand each fetched batch, in order, to a ProjectionRunner.

FastStream's per-message pull subscriber runs a batch's messages concurrently, which would lose the order per
stream; the batch subscriber hands us the batch as one list instead. Acks are manual: the runner acks, NAKs or
dead-letters each message itself, after its transaction.
"""
from __future__ import annotations

from typing import Any

import structlog
from faststream import Context
from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.message import NatsBatchMessage

from ttct.consumer import RETRY_DELAYS, ProjectionRunner
from ttct.settings import ServiceSettings
from ttct.topology import PUBLISHES, consumer_config, filter_subject

log = structlog.get_logger("ttct.subscribers")


def subscribe(broker: NatsBroker, runner: ProjectionRunner, context: str, settings: ServiceSettings) -> None:
    """Feed the events `context` publishes to `runner`, through this service's durable consumer."""
    config = consumer_config(
        settings.service_name, context, settings.province_code,
        max_deliver=settings.consumer_max_deliver, ack_wait=settings.consumer_ack_wait,
    )

    @broker.subscriber(
        filter_subject(context, settings.province_code),
        stream=JStream(PUBLISHES[context], declare=False),
        durable=settings.service_name,
        config=config,
        pull_sub=PullSub(batch_size=settings.consumer_batch_size, timeout=settings.consumer_fetch_timeout, batch=True),
        ack_policy=AckPolicy.MANUAL,
        title=f"{settings.service_name}/{context}",
        description=f"The {context} events this service applies to its projections.",
    )
    async def on_batch(_bodies: list[Any], message: NatsBatchMessage = Context("message")) -> None:
        try:
            await runner.handle_batch(message.raw_message)
        except Exception as exc:  # e.g. the database is down even for dead-lettering: let JetStream retry all
            log.error("batch not handled; redelivering", consumer=runner.consumer, error=repr(exc))
            await message.nack(delay=RETRY_DELAYS[1])
