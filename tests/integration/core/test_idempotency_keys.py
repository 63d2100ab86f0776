"""A retried POST with an Idempotency-Key does its work once, even when the first attempt crashed in the
middle or failed after its events were committed; real PostgreSQL, the real middleware and event store."""
import asyncio
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from idempotent_app import HEADERS, app_on, client
from ttct.http import idempotency

pytestmark = pytest.mark.integration


async def _events_of(pool, stream: str) -> int:
    return await pool.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", f"scheduling:class:{stream}")


async def test_a_retry_after_a_failure_past_the_commit_does_not_do_the_work_again(pool, province):
    stream, key = uuid.uuid4().hex, str(uuid.uuid4())
    async with client(app_on(pool)) as http:
        body = {"province": province, "fail_after_commit": True}
        first = await http.post(f"/classes/{stream}", json=body, headers={**HEADERS, "Idempotency-Key": key})
        assert first.status_code == 500
        retry = await http.post(f"/classes/{stream}", json=body, headers={**HEADERS, "Idempotency-Key": key})
    assert await _events_of(pool, stream) == 1, "the retry did the work a second time"
    assert retry.status_code == 409 and retry.json()["type"].endswith("idempotency-answer-lost")
    assert retry.json()["detail_vi"]


async def test_an_attempt_that_outlived_its_lease_cannot_commit_after_a_retry_took_its_key(
        pool, province, monkeypatch):
    stream, key = uuid.uuid4().hex, str(uuid.uuid4())
    monkeypatch.setattr(idempotency, "LEASE", timedelta(seconds=0.5))
    release = asyncio.Event()
    async with client(app_on(pool, hang=release)) as slow, client(app_on(pool)) as http:
        first = asyncio.create_task(slow.post(f"/classes/{stream}", json={"province": province},
                                              headers={**HEADERS, "Idempotency-Key": key}))
        await asyncio.sleep(1.0)
        retry = await http.post(f"/classes/{stream}", json={"province": province},
                                headers={**HEADERS, "Idempotency-Key": key})
        release.set()
        assert retry.status_code == 201
        assert (await first).status_code == 500
    assert await _events_of(pool, stream) == 1


async def test_the_key_of_a_request_that_crashed_mid_command_is_free_again_after_its_lease(
        pool, database, province, monkeypatch):
    stream, key = uuid.uuid4().hex, str(uuid.uuid4())
    crashing = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "idempotent_app.py"), database, f"/classes/{stream}", key,
         province, "1"], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent)
    try:
        assert await asyncio.to_thread(crashing.stdout.readline) == "started\n"
    finally:
        crashing.kill()  # the process dies in the middle of the command: no cleanup runs
        crashing.wait()
    monkeypatch.setattr(idempotency, "WAIT_FOR_FIRST", 5.0)
    async with client(app_on(pool)) as http:
        retry = await http.post(f"/classes/{stream}", json={"province": province},
                                headers={**HEADERS, "Idempotency-Key": key})
        assert retry.status_code == 201, retry.text
        again = await http.post(f"/classes/{stream}", json={"province": province},
                                headers={**HEADERS, "Idempotency-Key": key})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert await _events_of(pool, stream) == 1
