"""The system as the faults harness runs it: each service as one or more processes (replicas) on their own
loopback ports, sharing one NATS (a server or a cluster) and one PostgreSQL (directly, or through a proxy the
harness can switch off), and killed or restarted one process at a time."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ttct_dev.services import SERVICES, Services, free_port
from ttct_dev.stack import StackInfo, database_url, ensure_databases, ensure_nats_province
from ttct_dev.tokens import LocalIssuer


@dataclass
class Replica:
    service: str
    index: int
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None
    release: dict[str, str] = field(default_factory=dict)  # what it was last started with beyond `env` (PYTHONPATH)
    started_at: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.service}-{self.index}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        self.release, self.started_at = dict(extra_env or {}), time.monotonic()
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", self.service],
                                            env={**self.env, **self.release}, stdout=out,
                                            stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """kill -9: no graceful shutdown, nothing acked or released on the way out."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Fleet:
    """`replicas` processes of each service. `database_server` is the PostgreSQL URL the services use (a proxy's,
    perhaps); `stack.postgres_url` the real one, which the harness's own checks use."""

    stack: StackInfo
    issuer: LocalIssuer
    log_dir: Path
    replicas: int = 2
    province: str = "thanh-hoa"
    database_server: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, list[Replica]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = {"CONSUMER_ACK_WAIT": "5", "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", **self.env}
        self._services = Services(self.stack, self.issuer, province=self.province, log_dir=self.log_dir,
                                  env=self.env)

    def database(self, service: str, *, direct: bool = False) -> str:
        server = self.stack.postgres_url if direct or not self.database_server else self.database_server
        return database_url(server, f"ttct_{service}")

    @property
    def key_vault(self) -> str:
        return self.database("keys")

    async def start(self, timeout: float = 90.0) -> None:
        await ensure_databases(self.stack.postgres_url, [f"ttct_{s}" for s in (*SERVICES, "keys")])
        if self.stack.nats_users:
            await asyncio.to_thread(ensure_nats_province, self.stack, self.province)
            await self._services._apply_topology()
        for service in SERVICES:
            self.nodes[service] = []
            for index in range(self.replicas):
                env = {**os.environ, "DATABASE_URL": self.database(service), "KEY_VAULT_URL": self.key_vault,
                       "NATS_URL": self._services.nats_url(service),
                       **({"PROVISION": "false"} if self.stack.nats_users else {}),
                       "PROVINCE_CODE": self.province, "HTTP_HOST": "127.0.0.1", **self.issuer.env,
                       **self.env}
                replica = Replica(service, index, free_port(), env, self.log_dir / f"{service}-{index}.log")
                replica.env["HTTP_PORT"] = str(replica.port)
                self.nodes[service].append(replica)
        # one replica of each first: they create their schemas (and streams) without racing their twins
        for index in range(self.replicas):
            for service in SERVICES:
                self.nodes[service][index].start()
            await self.wait_ready([self.nodes[s][index] for s in SERVICES], timeout)

    def all(self) -> list[Replica]:
        return [r for rs in self.nodes.values() for r in rs]

    def urls(self, service: str) -> list[str]:
        return [r.url for r in self.nodes[service]]

    async def restart(self, replica: Replica, extra_env: dict[str, str] | None = None,
                      timeout: float = 60.0) -> float:
        """Start a stopped or killed replica again; seconds until it is ready."""
        started = time.monotonic()
        replica.stop()
        replica.start(extra_env)
        await self.wait_ready([replica], timeout)
        return time.monotonic() - started

    async def ready(self, replica: Replica) -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                return (await http.get(f"{replica.url}/healthz/ready")).status_code == 200
        except httpx.HTTPError:
            return False

    async def wait_ready(self, replicas: list[Replica], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for replica in replicas:
            while not await self.ready(replica):
                if not replica.alive:
                    raise RuntimeError(f"{replica.name} exited with {replica.process.returncode}; {replica.log}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{replica.name} not ready after {timeout:.0f} s; {replica.log}")
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        for replica in reversed(self.all()):
            replica.stop()

    def verify_env(self) -> dict[str, str]:
        """The environment of `python -m ttct.admin verify` for this fleet: the real server, the admin user."""
        return {**os.environ, "NATS_URL": self.stack.nats_url, "PROVINCE_CODE": self.province,
                **{f"{s.upper()}_DATABASE_URL": self.database(s, direct=True) for s in SERVICES}}

    def admin_env(self, service: str) -> dict[str, str]:
        """A service's own environment, for `python -m ttct.admin <service> …` (replay, skip, rebuild), with the
        release its last started replica runs."""
        latest = max(self.nodes[service], key=lambda replica: replica.started_at)
        env = {**latest.env, **latest.release}
        env["DATABASE_URL"] = self.database(service, direct=True)
        env["KEY_VAULT_URL"] = self.database("keys", direct=True)
        return env
