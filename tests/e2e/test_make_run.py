"""`make run` (python -m ttct_dev.run) as a new user meets it: the services on the ports it promises, again after
a restart, a taken port named loudly; a local webhook receiver accepted; Ctrl-C stopping everything quietly.

Each run here uses the session's NATS and PostgreSQL (NATS_URL / DATABASE_URL, which `make run` honours) and
ports of its own from --first-port, so it never meets a developer's `make run` on 8001-8004."""
from __future__ import annotations

import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx
import pytest
from ttct_dev.services import SERVICES
from ttct_dev.tokens import LocalIssuer

pytestmark = pytest.mark.e2e
READY = "Stop with Ctrl-C."


def four_free_ports() -> int:
    """The first of four consecutive ports nothing uses (bound without SO_REUSEADDR: not even in TIME_WAIT)."""
    for _ in range(200):
        first = random.randrange(20000, 40000)
        try:
            for port in range(first, first + 4):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise RuntimeError("no four free ports in a row")


class MakeRun:
    """One `make run` in a process group of its own, as a terminal runs it in the foreground."""

    def __init__(self, stack, data_dir: Path, first_port: int, province: str) -> None:
        env = {**os.environ, "NATS_URL": stack.nats_url, "DATABASE_URL": stack.postgres_url}
        env.pop("WEBHOOK_ALLOW_PRIVATE_TARGETS", None)  # as a new user's shell has it
        self.data_dir, self.province, self.lines, self.output = data_dir, province, queue.Queue(), []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ttct_dev.run", "--data-dir", str(data_dir), "--province", province,
             "--first-port", str(first_port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        self._until(READY, 180)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _until(self, text: str | None, timeout: float) -> None:
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                assert text is None, f"make run ended before {text!r}:\n{self.said}"
                return
            self.output.append(line)
            if text is not None and text in line:
                return

    @property
    def said(self) -> str:
        return "".join(self.output)

    def url(self, service: str) -> str:
        [line] = [line for line in self.output if line.strip().startswith(f"{service} ")]
        return line.split()[1].removesuffix("/v1")

    def ctrl_c(self) -> int:
        os.killpg(self.proc.pid, signal.SIGINT)  # to the whole group, as the terminal does
        self._until(None, 120)
        return self.proc.wait(60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(60)

    def log(self, service: str) -> str:
        return (self.data_dir / "logs" / f"{service}.log").read_text(encoding="utf-8")


@pytest.fixture
def make_run(stack, tmp_path):
    runs: list[MakeRun] = []
    province = f"p-{uuid.uuid4().hex[:10]}"

    def start(first_port: int) -> MakeRun:
        runs.append(MakeRun(stack, tmp_path / "data", first_port, province))
        return runs[-1]

    yield start
    for run in runs:
        run.stop()


def test_ctrl_c_stops_every_service_without_a_traceback_in_its_log(make_run):
    run = make_run(four_free_ports())
    for service in SERVICES:
        assert httpx.get(f"{run.url(service)}/healthz/ready", timeout=10).status_code == 200
    assert run.ctrl_c() == 0
    assert "Stopped; data kept in" in run.said and "Traceback" not in run.said
    for service in SERVICES:
        log = run.log(service)
        assert "service stopped" in log and "Traceback" not in log and "KeyboardInterrupt" not in log, log


def test_a_restart_keeps_the_promised_ports_and_a_taken_one_is_named_loudly(make_run):
    first = four_free_ports()
    promised = {service: f"http://127.0.0.1:{first + i}" for i, service in enumerate(SERVICES)}
    run = make_run(first)
    assert {service: run.url(service) for service in SERVICES} == promised
    with httpx.Client(timeout=10) as client:  # kept alive: the servers close them, leaving their ports in TIME_WAIT
        for url in promised.values():
            assert client.get(f"{url}/healthz/ready").status_code == 200
        run.ctrl_c()
    again = make_run(first)
    assert {service: again.url(service) for service in SERVICES} == promised, again.said
    assert "!!!" not in again.said
    again.ctrl_c()

    with socket.socket() as taken:  # another program on enrolment's port (a server, reusing the address)
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", first + 1))
        taken.listen()
        third = make_run(first)
        assert third.url("enrolment") != promised["enrolment"]
        assert f"!!! enrolment cannot have its port {first + 1}" in third.said, third.said
        assert third.url("scheduling") == promised["scheduling"]
        third.ctrl_c()


def test_a_local_webhook_receiver_can_be_registered_under_make_run(make_run):
    run = make_run(four_free_ports())
    organisation = LocalIssuer(run.data_dir).headers("organisation", org="xa-hoa-loc", province=run.province)
    r = httpx.post(f"{run.url('notification')}/v1/organisations/xa-hoa-loc/webhook-endpoints", headers=organisation,
                   json={"url": "http://127.0.0.1:9999/hooks/xa-hoa-loc", "description": "Máy nhận thử"}, timeout=10)
    assert r.status_code == 201, r.text
    assert "WEBHOOK_ALLOW_PRIVATE_TARGETS=true" in run.said
    run.ctrl_c()
