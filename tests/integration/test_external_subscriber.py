"""The example external subscriber (examples/external_subscriber.py) follows one centre's events on the real NATS:
it sees what is published for its centre, on each of the three streams, and nothing of another centre."""
from __future__ import annotations

import asyncio
import importlib.util
import json
import uuid
from pathlib import Path

import pytest

from ttct.topology import PUBLISHES, ensure_stream

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "tests/contract/samples/ClassOpened.v1.json").read_text())


def _example():
    spec = importlib.util.spec_from_file_location("external_subscriber", ROOT / "examples/external_subscriber.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_example_prints_its_centres_events_from_every_stream(nc, nats_url, province, capsys):
    example = _example()
    js = nc.jetstream()
    for context in PUBLISHES:
        await ensure_stream(js, context)
    published = {}
    for context in PUBLISHES:
        for centre in ("hau-loc", "nga-son"):
            envelope = {**SAMPLE, "event_id": str(uuid.uuid4()), "province": province, "centre": centre}
            subject = f"ttct.{province}.{centre}.{context}.{SAMPLE['event_type']}"
            await js.publish(subject, json.dumps(envelope).encode())
            published.setdefault(centre, []).append(envelope["event_id"])

    seen: list[tuple[str, dict]] = []
    stop = asyncio.Event()

    async def collect(stream: str, envelope: dict) -> None:
        seen.append((stream, envelope))
        await example.print_envelope(stream, envelope)
        if len(seen) == len(PUBLISHES):
            stop.set()

    follower = asyncio.create_task(example.follow(nats_url, province, "hau-loc", stop, on_event=collect))
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
