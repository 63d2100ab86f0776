"""The event contract as an AsyncAPI document: `faststream docs gen ttct_dev.asyncapi:app` writes docs/events/asyncapi.json.

Documentation only: nothing runs this app or its broker. The services publish through their transactional
outbox with nats-py (`ttct.eventsourcing.outbox`) and read through the batch subscribers of `ttct.eventsourcing.subscribers`. This module
declares the same thing for the document, derived from `ttct.eventsourcing.topology` and `ttct.contracts.EVENTS` so the two
cannot drift: a publisher per event (the subject, the stream, the envelope with that event's payload) and a
subscriber per durable consumer of a service.
"""
# No `from __future__ import annotations`: FastStream reads a subscriber's body type from its annotation at
# decoration time, and the annotations below are built at run time.
import inspect
import sys
from typing import Literal, Union

import ttct.contracts
from faststream import FastStream
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.specification import AsyncAPI
from pydantic import Field, create_model
from ttct.contracts import EVENTS, DomainEvent, Envelope
from ttct.eventsourcing.topology import PUBLISHES, READS, durable_name, filter_subject

PROVINCE, CENTRE = "{province}", "{centre}"
"""Subject tokens left as parameters: one deployment serves one province, one subject token per centre."""


def _doc(obj: object) -> str:
    return inspect.cleandoc(getattr(obj, "__doc__", None) or "")


def contract_doc(contract: type[DomainEvent]) -> str:
    """What the event means, from its contract module's docstring."""
    return _doc(sys.modules[contract.__module__]) or _doc(contract)


def event_subject(contract: type[DomainEvent], province: str = PROVINCE, centre: str = CENTRE) -> str:
    """`ttct.<province>.<centre>.<context>.<EventType>`: the topology's filter for the context, narrowed to one type."""
    return filter_subject(contract.context, province, centre).removesuffix(">") + contract.event_type


def envelope_model(contract: type[DomainEvent]) -> type[Envelope]:
    """`Envelope` with its payload typed as `contract`: one message as it travels on the wire."""
    return create_model(
        f"{contract.event_type}Envelope",
        __base__=Envelope,
        __module__=__name__,
        __doc__=f"A {contract.event_type} event in its envelope. {_doc(Envelope)}",
        event_type=(Literal[contract.event_type], ...),  # type: ignore[valid-type]
        schema_version=(int, Field(ge=1, le=contract.schema_version, description=(
            f"Version of the payload's contract; {contract.schema_version} is current. A reader upcasts an older "
            "version (still possible for events stored before an upgrade) before it handles the event."))),
        payload=(contract, Field(description=contract_doc(contract))),
    )


MESSAGES: dict[str, type[Envelope]] = {name: envelope_model(contract) for name, contract in EVENTS.items()}

broker = NatsBroker(
    "nats://localhost:4222",
    description="The province's NATS JetStream (the services' NATS_URL; `make run` starts a local one).",
)


def _declare_publisher(contract: type[DomainEvent]) -> None:
    stream = PUBLISHES[contract.context]
    broker.publisher(
        event_subject(contract),
        stream=JStream(stream, declare=False),
        title=contract.event_type,
        schema=MESSAGES[contract.event_type],
        description=(
            f"{contract_doc(contract)}\n\nPublished by {contract.context} to stream {stream}, from its "
            "transactional outbox, with header `Nats-Msg-Id` = `event_id` (JetStream drops a duplicate within two "
            "minutes; a reader still deduplicates by `event_id`). Current version: "
            f"{contract.schema_version}."
        ),
    )


def _declare_consumer(reader: str, context: str) -> None:
    """The durable pull consumer `reader` keeps on `context`'s stream (`ttct.eventsourcing.subscribers.PullConsumer`)."""
    readable = tuple(MESSAGES[name] for name, c in EVENTS.items() if c.context == context)
    stream = PUBLISHES[context]

    async def consume(batch: list[Union[readable]]) -> None:  # type: ignore[valid-type]  # noqa: UP007
        """Documentation only: the service's handler is in `ttct.eventsourcing.subscribers`."""

    broker.subscriber(
        filter_subject(context, PROVINCE),
        stream=JStream(stream, declare=False),
        durable=durable_name(reader, PROVINCE),
        pull_sub=PullSub(batch=True),
        title=f"{reader}/{context}",
        description=(
            f"Durable pull consumer `{durable_name(reader, PROVINCE)}` on stream {stream}: {reader} applies the {context} events of its "
            "province to its own projections, a batch per transaction in stream order, each event once (a "
            "checkpoint per aggregate stream). An event that keeps failing goes to its dead letters."
        ),
    )(consume)


def _declare_topology() -> None:
    for contract in EVENTS.values():
        _declare_publisher(contract)
    for reader, contexts in READS.items():
        for context in contexts:
            _declare_consumer(reader, context)


_declare_topology()

app = FastStream(
    broker,
    specification=AsyncAPI(
        title="Training-centre domain events",
        version="1",
        description="\n\n".join((
            _doc(ttct.contracts),
            _doc(sys.modules[Envelope.__module__]),
            "Subject of every event: `ttct.<province>.<centre>.<context>.<EventType>`; one stream per publishing "
            f"context ({', '.join(PUBLISHES.values())}). Each event's payload carries its own `schema_version`: "
            "see docs/events/README.md for the versioning rule.",
        )),
    ),
)
