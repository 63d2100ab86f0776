"""`python -m ttct.admin verify` on four running services: all in place, then one of each discrepancy made by
hand (a message lost from JetStream, an event a consumer never applied, a dead letter, a notice delivered twice),
each reported, with a non-zero exit."""
import asyncio
import json
import os
import subprocess
import sys
import uuid
from contextlib import AsyncExitStack

import asyncpg
import pytest
from running_services import enrol_and_score, start_all
from ttct.admin import audit
from ttct.eventsourcing.topology import READS

pytestmark = pytest.mark.integration


async def _clean(running, nats_url) -> audit.Report:
    for _ in range(100):  # deliveries are made after the consumers settle
        report = await audit.verify(running.databases, nats_url, running.province)
        if report.exit_status == 0:
            return report
        await asyncio.sleep(0.2)
    raise AssertionError(report.table())


def _cli(running, nats_url, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "NATS_URL": nats_url, "PROVINCE_CODE": running.province,
           **{f"{s.upper()}_DATABASE_URL": url for s, url in running.databases.items()}}
    return subprocess.run([sys.executable, "-m", "ttct.admin", "verify", *args], env=env, capture_output=True,
                          text=True, timeout=120)


async def test_verify_finds_every_discrepancy_made_on_a_running_system(admin_url, nats_url, province, nc, tmp_path):
    async with AsyncExitStack() as stack:
        running = await start_all(stack, admin_url, nats_url, province, tmp_path)
        await enrol_and_score(running, learners=2)
        await running.settled()
        clean = await _clean(running, nats_url)
        enrolment_line = next(s for s in clean.streams if s.stream == "ENROLMENT")
        assert enrolment_line.store == enrolment_line.jetstream > 0
        # every reader of enrolment's stream (scheduling too: the register of centres)
        assert set(enrolment_line.consumers) == {s for s, read in READS.items() if "enrolment" in read}
        assert {"assessment", "notification", "scheduling"} <= set(enrolment_line.consumers)
        done = await asyncio.to_thread(_cli, running, nats_url)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "findings   none" in done.stdout
    # the services are stopped: nothing repairs what is broken next
    js = nc.jetstream()
    conns = {s: await asyncpg.connect(url) for s, url in running.databases.items()}
    try:
        for conn in conns.values():
            await conn.execute("SELECT set_config('ttct.scope', 'all', false)")
        # 1. a message lost from the ENROLMENT stream
        lost = await conns["enrolment"].fetchrow(
            "SELECT event_id::text, stream_id FROM events WHERE event_type = 'LearnerEnrolled' ORDER BY position LIMIT 1")
        sub = await js.pull_subscribe(f"ttct.{province}.>", stream="ENROLMENT")
        for msg in await sub.fetch(50, timeout=2):
            if msg.headers["Nats-Msg-Id"] == lost["event_id"]:
                await js.delete_msg("ENROLMENT", msg.metadata.sequence.stream)
            await msg.ack()
        await sub.unsubscribe()
        # 2. an event notification never applied (its checkpoint one behind)
        behind = await conns["notification"].fetchrow(
            "UPDATE consumer_checkpoints SET stream_version = stream_version - 1 WHERE stream_id = ("
            " SELECT stream_id FROM consumer_checkpoints WHERE stream_id LIKE 'assessment:%' LIMIT 1)"
            " RETURNING stream_id, stream_version + 1 AS version")
        unapplied = await conns["assessment"].fetchval(
            "SELECT event_id::text FROM events WHERE stream_id = $1 AND stream_version = $2",
            behind["stream_id"], behind["version"])
        # 3. a dead letter in assessment for a scheduling event
        opened = await conns["scheduling"].fetchrow(
            "SELECT event_id, stream_id, stream_version, envelope::text FROM events ORDER BY position LIMIT 1")
        await conns["assessment"].execute(
            "INSERT INTO dead_letters (consumer, subject, event_id, stream_id, stream_version, deliveries, error, body)"
            " VALUES ($1, 'x', $2, $3, $4, 5, 'RuntimeError: bug', $5)", f"assessment-{province}",
            opened["event_id"], opened["stream_id"], opened["stream_version"], opened["envelope"].encode())
        # 4. a notice delivered a second time to its endpoint
        twice = await conns["notification"].fetchrow(
            "SELECT d.delivery_id, n.event_id::text FROM deliveries d JOIN notices n USING (notice_id) LIMIT 1")
        await conns["notification"].execute(
            "INSERT INTO delivery_attempts (delivery_id, attempt_no, attempted_at, status_code, outcome)"
            " VALUES ($1, 2, now(), 204, 'delivered')", twice["delivery_id"])
    finally:
        for conn in conns.values():
            await conn.close()

    found = await asyncio.to_thread(_cli, running, nats_url, "--json")
    assert found.returncode == 1, found.stdout + found.stderr
    findings = {(f["kind"], f["event_id"]) for f in json.loads(found.stdout)["findings"]}
    assert ("missing-on-jetstream", lost["event_id"]) in findings
    assert ("not-applied", unapplied) in findings
    assert ("dead-lettered", str(opened["event_id"])) in findings
    assert ("delivered-twice", twice["event_id"]) in findings
    assert len(findings) == 4, findings
    table = await asyncio.to_thread(_cli, running, nats_url, "enrolment")  # one service: its store and stream
    assert table.returncode == 1 and "missing-on-jetstream" in table.stdout
    assert str(uuid.UUID(lost["event_id"])) in table.stdout
