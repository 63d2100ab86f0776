"""With tracing on, the services' background loops (outbox relay, consumers, metrics sampler, notification's
dispatchers) export nothing while idle, and a command's statements still join the command's trace."""
import asyncio
from contextlib import AsyncExitStack

import pytest
from running_services import ORG, enrol_and_score, start_all

pytestmark = pytest.mark.integration




def _statements(spans):
    return [s for s in spans if s.attributes.get("db.system") == "postgresql"]


async def test_idle_services_export_no_traces_and_a_commands_statements_stay_in_its_trace(
        admin_url, nats_url, province, exporter, tmp_path):
    async with AsyncExitStack() as stack:
        running = await start_all(stack, admin_url, nats_url, province, tmp_path)
        await asyncio.sleep(1)  # past the start (migrations, provisioning)
        exporter.clear()
        await asyncio.sleep(3)
        idle = exporter.get_finished_spans()
        assert len({s.context.trace_id for s in idle}) == 0, sorted({s.name for s in idle})

        await enrol_and_score(running, learners=1)
        for _ in range(100):
            if len(running.receiver.unique(ORG, "learner.result_recorded")) == 1:
                break
            await asyncio.sleep(0.1)
        await running.settled()
    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id for s in spans}
    orphans = [(s.parent is None, s.attributes.get("db.statement", "")[:90]) for s in _statements(spans) if s.parent is None or s.parent.span_id not in by_id]
    assert orphans == [], "\n".join(map(str, orphans))
    process = {s.context.span_id for s in spans if s.name.startswith("process ")}
    assert any(s.parent.span_id in process for s in _statements(spans)), "consumers' statements left their traces"
    publish = [s for s in spans if s.name == "publish ScoreRecorded"]
    assert publish and publish[0].parent is not None  # the relay's publish stays in the command's trace
