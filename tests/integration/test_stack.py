"""ttct_dev.stack: the embedded NATS + PostgreSQL the other integration tests and `make run` rely on."""
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.js.api import StorageType

from ttct_dev.stack import PG_ACCOUNT, LocalStack, database_url, ensure_databases

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def own_servers(monkeypatch):
    # the stack must start its own servers, not point at whatever the environment names
    monkeypatch.delenv("NATS_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)


def _cli(*args: str, data_dir: Path, **kw):
    return subprocess.run([sys.executable, "-m", "ttct_dev.stack", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=90, **kw)


async def test_data_survives_restart(tmp_path):
    stack = LocalStack(tmp_path / "stack", durable=False)
    info = stack.start()
    assert stack.start() == info  # idempotent
    assert info.nats_url.startswith("nats://admin:") and info.nats_url.rsplit("@", 1)[1].startswith("127.0.0.1:")
    assert info.postgres_url.startswith("postgresql://postgres@127.0.0.1:") and info.postgres_url.endswith("/postgres")

    conn = await asyncpg.connect(info.postgres_url)
    assert await conn.fetchval("SHOW fsync") == "off"
    await conn.execute("CREATE TABLE kept (id int PRIMARY KEY, note text)")
    await conn.execute("INSERT INTO kept VALUES (1, 'Hậu Lộc')")
    await conn.close()
    nc = await nats.connect(info.nats_url)
    js = nc.jetstream()
    await js.add_stream(name="KEPT", subjects=["kept.>"], storage=StorageType.FILE)
    ack = await js.publish("kept.one", b"hello")
    await nc.close()

    stack.stop()
    with pytest.raises(OSError):
        await asyncpg.connect(info.postgres_url, timeout=5)
    assert (tmp_path / "stack" / "stack.json").exists()

    assert stack.start() == info  # remembered ports: same URLs, same data
    try:
        conn = await asyncpg.connect(info.postgres_url)
        assert await conn.fetchval("SELECT note FROM kept WHERE id = 1") == "Hậu Lộc"
        await conn.close()
        nc = await nats.connect(info.nats_url)
        msg = await nc.jetstream().get_msg("KEPT", ack.seq)
        assert (msg.subject, msg.data) == ("kept.one", b"hello")
        await nc.close()
    finally:
        stack.stop()


def test_other_process_reuses_running_servers(tmp_path):
    data_dir = tmp_path / "stack"
    with LocalStack(data_dir, durable=False) as stack:
        info = stack.start()
        code = f"from ttct_dev.stack import LocalStack as S; s = S({str(data_dir)!r}); print(s.start()); s.stop()"
        other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert other.returncode == 0, other.stderr
        assert other.stdout.strip() == repr(info)
        # the other process started no second pair, and its stop() left ours alone
        status = _cli("status", data_dir=data_dir)
        assert status.returncode == 0
        assert tuple(json.loads(status.stdout)[k] for k in ("nats_pid", "postgres_pid")) == stack._running()
    assert _cli("status", data_dir=data_dir).returncode == 1  # our stop() did stop them


def test_concurrent_starts_share_one_pair_of_servers(tmp_path):
    data_dir = tmp_path / "stack"
    code = f"from ttct_dev.stack import LocalStack as S; print(S({str(data_dir)!r}, durable=False).start())"
    starters = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    try:
        outputs = {p.communicate(timeout=90)[0] for p in starters}
        assert len(outputs) == 1 and "StackInfo" in outputs.pop()
        assert _cli("status", data_dir=data_dir).returncode == 0
    finally:
        assert _cli("down", data_dir=data_dir).returncode == 0


async def test_restarts_after_a_crash_and_with_a_stale_pid_file(tmp_path):
    # a long path also makes PostgreSQL put its unix socket under /tmp (socket names are limited to ~107 bytes)
    data_dir = tmp_path / ("long-" * 16) / "stack"
    with LocalStack(data_dir) as stack:
        info = stack.start()
        conn = await asyncpg.connect(info.postgres_url)
        await conn.execute("CREATE TABLE t (x int); INSERT INTO t VALUES (42)")
        await conn.close()
        nats_pid, pg_pid = stack._running()
        for pid in (nats_pid, pg_pid):
            os.kill(pid, signal.SIGKILL)
        stack._nats.wait()
        assert _wait_for(lambda: stack._running() == (None, None))
    # the dead postmaster's pid now belongs to another process of the server's account: postgres alone
    # would then refuse to start ("lock file already exists"); it only ignores dead or other users' pids
    squatter = subprocess.Popen(["sleep", "60"], **({"user": PG_ACCOUNT} if os.geteuid() == 0 else {}))
    pid_file = data_dir / "postgres" / "postmaster.pid"
    lines = pid_file.read_text().splitlines()
    pid_file.write_text("\n".join([str(squatter.pid), *lines[1:]]) + "\n")
    try:
        with LocalStack(data_dir) as stack:
            assert stack.start() == info
            conn = await asyncpg.connect(info.postgres_url)
            assert await conn.fetchval("SELECT x FROM t") == 42
            await conn.close()
    finally:
        squatter.kill()
        squatter.wait()


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_taken_remembered_port_is_replaced(tmp_path):
    data_dir = tmp_path / "stack"
    with LocalStack(data_dir, durable=False) as stack:
        first = stack.start()
    pg_port = int(first.postgres_url.rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", pg_port))
        squatter.listen()
        with LocalStack(data_dir, durable=False) as stack:
            second = stack.start()
            assert second.nats_url == first.nats_url and second.postgres_url != first.postgres_url
            assert json.loads((data_dir / "stack.json").read_text())["postgres_port"] != pg_port


def test_cli_up_status_down(tmp_path):
    data_dir = tmp_path / "stack"
    up = subprocess.Popen([sys.executable, "-m", "ttct_dev.stack", "up", "--data-dir", str(data_dir)],
                          stdout=subprocess.PIPE, text=True)
    try:
        urls = json.loads(up.stdout.readline())
        assert set(urls) == {"nats_url", "postgres_url"}
        status = _cli("status", data_dir=data_dir)
        assert status.returncode == 0 and json.loads(status.stdout)["postgres_pid"]
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=60) == 0
        assert _cli("status", data_dir=data_dir).returncode == 1
        # down stops servers that another process started and left running
        code = f"from ttct_dev.stack import LocalStack as S; S({str(data_dir)!r}).start()"
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
        assert _cli("status", data_dir=data_dir).returncode == 0
        assert _cli("down", data_dir=data_dir).returncode == 0
        assert _cli("status", data_dir=data_dir).returncode == 1
    finally:
        if up.poll() is None:
            up.kill()


def test_servers_named_by_the_environment_are_used_not_started(tmp_path, monkeypatch):
    monkeypatch.setenv("NATS_URL", "nats://nats.example:4222")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:pw@db.example:5432/enrolment")
    with LocalStack(tmp_path / "stack") as stack:
        info = stack.start()
        assert info.nats_url == "nats://nats.example:4222"
        assert info.postgres_url == "postgresql://app:pw@db.example:5432/postgres"  # the admin database
    assert not (tmp_path / "stack" / "postgres").exists() and not (tmp_path / "stack" / "nats.log").exists()


def test_database_url():
    admin = "postgresql://postgres:s3cret@127.0.0.1:5544/postgres?sslmode=disable"
    assert database_url(admin, "enrolment") == "postgresql://postgres:s3cret@127.0.0.1:5544/enrolment?sslmode=disable"
    assert database_url("postgresql://postgres@localhost:5432", "a b") == "postgresql://postgres@localhost:5432/a%20b"


async def test_ensure_databases_is_idempotent_and_race_safe(tmp_path):
    with LocalStack(tmp_path / "stack", durable=False) as stack:
        admin = stack.start().postgres_url
        names = ["enrolment", "scheduling", "Odd-Name"]
        await asyncio.gather(*(ensure_databases(admin, names[::step]) for step in (1, -1, 1, -1)))
        await ensure_databases(admin, names)
        conn = await asyncpg.connect(admin)
        existing = {r[0] for r in await conn.fetch("SELECT datname FROM pg_database")}
        await conn.close()
        assert set(names) <= existing
        conn = await asyncpg.connect(database_url(admin, "Odd-Name"))
        assert await conn.fetchval("SELECT current_database()") == "Odd-Name"
        await conn.close()
