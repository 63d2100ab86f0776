"""Starting the four services as processes on one machine: for `make run`, the demo, the e2e tests and the
benchmark. Each gets its own database on the given server, its own loopback port, and the shared NATS.

When the stack runs NATS with per-service users (`StackInfo.nats_users`), each service connects as its own user
(its NATS_URL carries the credentials) and, as in the Helm chart, the topology is applied first with the admin
user and the services run with PROVISION=false: their users may not create other services' streams.
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ttct_dev.stack import StackInfo, database_url, ensure_databases, ensure_nats_province
from ttct_dev.tokens import LocalIssuer

SERVICES = ("scheduling", "enrolment", "assessment", "notification")
DEFAULT_PORTS = {"scheduling": 8001, "enrolment": 8002, "assessment": 8003, "notification": 8004}


def free_port(preferred: int | None = None) -> int:
    """`preferred` unless a program listens on it, else any free port."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            # as the servers (uvicorn) bind: a port still in TIME_WAIT after a restart is no conflict for them,
            # so it is none for this probe either, or a restarted `make run` would move to a random port
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


def moved_warning(service: str, wanted: int, url: str) -> str:
    return (f"!!! {service} cannot have its port {wanted}: another program listens on it, so {service} runs on "
            f"{url} instead. Stop that program (`ss -ltnp 'sport = :{wanted}'` names it) and restart to get "
            f"{wanted} back.")


@dataclass
class Services:
    """The four services, started as child processes; `urls` maps a service to its base URL."""

    stack: StackInfo
    issuer: LocalIssuer
    province: str = "thanh-hoa"
    log_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    fixed_ports: bool = False
    """Serve on `ports` (`make run`), each service elsewhere only if its port is taken, saying so loudly."""
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    database_prefix: str = "ttct_"
    services: tuple[str, ...] = SERVICES  # which of them start() starts
    urls: dict[str, str] = field(default_factory=dict)
    moved: dict[str, int] = field(default_factory=dict)
    """The services of fixed_ports that could not have their port: service -> the port they should have had."""
    _procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def database(self, service: str) -> str:
        return database_url(self.stack.postgres_url, f"{self.database_prefix}{service}")

    @property
    def key_vault(self) -> str:
        """The key vault's database (learners' data keys, issue 7): one for all services, outside their stores."""
        return database_url(self.stack.postgres_url, f"{self.database_prefix}keys")

    def admin(self, service: str, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
        """`python -m ttct.admin <service> <args>` (an operator's command, e.g. rebuild) on this service's database
        and NATS user, its output captured."""
        return self.command(service, "ttct.admin", service, *args, timeout=timeout)

    def command(self, service: str, module: str, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
        """`python -m <module> <args>` with `service`'s environment (its database, its NATS user), captured."""
        env = {**os.environ, **self.issuer.env, **self.env, "DATABASE_URL": self.database(service),
               "NATS_URL": self.nats_url(service), "PROVINCE_CODE": self.province, "KEY_VAULT_URL": self.key_vault}
        return subprocess.run([sys.executable, "-m", module, *args], env=env, capture_output=True, text=True,
                              timeout=timeout)

    def start(self, timeout: float = 60.0) -> None:
        asyncio.run(ensure_databases(self.stack.postgres_url, [f"{self.database_prefix}{s}" for s in self.services]
                                     + [f"{self.database_prefix}keys"]))
        if self.stack.nats_users:
            ensure_nats_province(self.stack, self.province)
            asyncio.run(self._apply_topology())
        for service in self.services:
            self.start_one(service)
        self.wait_ready(timeout)

    def nats_url(self, service: str) -> str:
        """The NATS URL `service` connects with: its own user's, or the shared one when there are no users."""
        return self.stack.nats_users.get(service, self.stack.nats_url)

    async def _apply_topology(self) -> None:
        """What `python -m ttct.eventsourcing.topology apply` does, as the admin user, with the ack wait of `env`."""
        import nats  # the services' dependencies, installed beside ttct-dev
        from ttct.eventsourcing.topology import PUBLISHES, READS, ensure_consumers, ensure_stream
        from ttct.operations.settings import nats_servers

        ack_wait = float({**os.environ, **self.env}.get("CONSUMER_ACK_WAIT", 30.0))
        nc = await nats.connect(servers=nats_servers(self.stack.nats_url))
        try:
            js = nc.jetstream()
            for context in PUBLISHES:
                await ensure_stream(js, context)
            for reader in READS:
                await ensure_consumers(js, reader, self.province, ack_wait=ack_wait)
        finally:
            await nc.close()

    def start_one(self, service: str) -> None:
        wanted = self.ports[service] if self.fixed_ports else None
        port = int(self.urls[service].rsplit(":", 1)[1]) if service in self.urls else free_port(wanted)
        if wanted and port != wanted:
            self.moved[service] = wanted
            print(moved_warning(service, wanted, f"http://127.0.0.1:{port}"), file=sys.stderr, flush=True)
        env = {
            **os.environ,
            "DATABASE_URL": self.database(service),
            "KEY_VAULT_URL": self.key_vault,
            "NATS_URL": self.nats_url(service),
            **({"PROVISION": "false"} if self.stack.nats_users else {}),
            "PROVINCE_CODE": self.province,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
            **self.issuer.env,
            **self.env,
        }
        out = open(self.log_dir / f"{service}.log", "ab") if self.log_dir else subprocess.DEVNULL  # noqa: SIM115
        self._procs[service] = subprocess.Popen([sys.executable, "-m", service], env=env, stdout=out,
                                                stderr=subprocess.STDOUT)
        self.urls[service] = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for service, url in self.urls.items():
            while True:
                proc = self._procs[service]
                if proc.poll() is not None:
                    raise RuntimeError(f"{service} exited with {proc.returncode}; see its log")
                try:
                    if httpx.get(f"{url}/healthz/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{service} not ready after {timeout:.0f}s")
                time.sleep(0.1)

    def stop_one(self, service: str, sig: int = signal.SIGTERM) -> None:
        proc = self._procs.pop(service, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        for service in reversed(list(self._procs)):
            self.stop_one(service)

    def __enter__(self) -> Services:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
