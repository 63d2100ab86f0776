"""The benchmark's private world: a durable stack, the four services, connections to their databases, tokens,
and a sampler of each process's memory and CPU.

Commit timestamps (`track_commit_timestamp = on`) are switched on in the private PostgreSQL so that the moment a
consumer's transaction committed can be read back exactly (`pg_xact_commit_timestamp(xmin)` of the row it wrote),
instead of being approximated by how often the benchmark polls.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import nats
import psutil
from ttct.operations.settings import nats_servers

from ttct_dev.services import SERVICES, Services
from ttct_dev.stack import LocalStack, StackInfo, database_url, ensure_databases
from ttct_dev.tokens import LocalIssuer
from ttct_dev.bench.wire import Wire

PROVINCE = "thanh-hoa"


class Sampler:
    """Peak RSS (process and its children) and CPU seconds of named processes, sampled in a thread."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval, self.peak_rss = interval, {}
        self._procs: dict[str, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def watch(self, name: str, pid: int) -> None:
        with contextlib.suppress(psutil.Error):
            self._procs[name] = psutil.Process(pid)
            self.peak_rss.setdefault(name, 0)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for name, proc in list(self._procs.items()):
                with contextlib.suppress(psutil.Error):
                    rss = proc.memory_info().rss + sum(_rss(c) for c in proc.children(recursive=True))
                    self.peak_rss[name] = max(self.peak_rss[name], rss)

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) so far of each watched process with its live children, and of this one.

        PostgreSQL's is the postmaster's plus its backends' that are alive now: the services keep their pools'
        connections, so little is lost to backends that exited."""
        out = {}
        for name, proc in self._procs.items():
            with contextlib.suppress(psutil.Error):
                out[name] = _cpu(proc) + sum(_cpu(c) for c in proc.children(recursive=True))
        out["bench (load generator)"] = _cpu(psutil.Process())  # itself only: the services are its children
        return out


def _rss(proc: psutil.Process) -> int:
    with contextlib.suppress(psutil.Error):
        return proc.memory_info().rss
    return 0


def _cpu(proc: psutil.Process) -> float:
    with contextlib.suppress(psutil.Error):
        t = proc.cpu_times()  # with its reaped children's (PostgreSQL's backends that exited)
        return t.user + t.system + t.children_user + t.children_system
    return 0.0


@dataclass
class Bench:
    """What every scenario uses: URLs, database pools per service, an HTTP client and a token for all centres."""

    stack: StackInfo
    services: Services
    issuer: LocalIssuer
    sampler: Sampler
    commit_timestamps: bool
    pools: dict[str, asyncpg.Pool] = field(default_factory=dict)
    http: httpx.AsyncClient | None = None
    wires: dict[str, Wire] = field(default_factory=dict)
    nc: nats.NATS | None = None
    centres: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(100_000_000_000))
    _tags: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def urls(self) -> dict[str, str]:
        return self.services.urls

    def national_id(self) -> str:
        """A new person each time: 12 digits, unique in this run."""
        return str(next(self._ids))

    def tag(self) -> str:
        """A short code unique in this run, for the organisations and titles of one measurement."""
        return f"r{next(self._tags)}"

    def centre_codes(self, n: int) -> list[str]:
        return [f"ttbench-{i:03d}" for i in range(n)]

    def headers(self) -> dict[str, str]:
        # one centre-staff token valid for every centre the benchmark uses (the `centres` claim)
        return self.issuer.headers("centre-staff", centre=self.centre_codes(150), ttl=24 * 3600)

    def database_url(self, name: str) -> str:
        return database_url(self.stack.postgres_url, name)


async def _commit_timestamps(stack: LocalStack, info: StackInfo) -> tuple[StackInfo, bool]:
    """Switch track_commit_timestamp on (a restart of our own PostgreSQL); False if it cannot be."""
    conn = await asyncpg.connect(info.postgres_url)
    try:
        if await conn.fetchval("SHOW track_commit_timestamp") == "on":
            return info, True
        await conn.execute("ALTER SYSTEM SET track_commit_timestamp = on")
    finally:
        await conn.close()
    if os.environ.get("DATABASE_URL"):
        return info, False  # not ours to restart
    stack.stop()
    info = stack.start()
    conn = await asyncpg.connect(info.postgres_url)
    try:
        return info, await conn.fetchval("SHOW track_commit_timestamp") == "on"
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def running(work_dir: Path, *, service_env: dict[str, str] | None = None):
    """The stack (durable: fsync and synchronous_commit on), the four services and a Bench, stopped at exit."""
    # pg_stat_statements: each scenario's report names the statements PostgreSQL spent its time on
    stack = LocalStack(work_dir / "stack", durable=True, postgres_settings={
        "shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.max": 5000})
    try:
        info, exact = await _commit_timestamps(stack, stack.start())
        issuer = LocalIssuer(work_dir)
        logs = work_dir / "logs"
        logs.mkdir(exist_ok=True)
        services = Services(info, issuer, province=PROVINCE, log_dir=logs, database_prefix="ttct_",
                            env={"RATE_LIMIT_PER_SECOND": "0", **(service_env or {})})  # the load is one client
        await asyncio.to_thread(services.start)
        sampler = Sampler()
        try:
            for name, proc in services._procs.items():  # noqa: SLF001 - the pids are what we sample
                sampler.watch(name, proc.pid)
            with contextlib.suppress(OSError, ValueError, IndexError):
                sampler.watch("postgresql", int((stack.pgdata / "postmaster.pid").read_text().split()[0]))
            with contextlib.suppress(OSError, ValueError):
                sampler.watch("nats-server", int((stack.data_dir / "nats.pid").read_text().split()[0]))
            sampler.start()
            bench = Bench(info, services, issuer, sampler, exact)
            for service in SERVICES:
                bench.pools[service] = await asyncpg.create_pool(services.database(service), min_size=1, max_size=4)
            bench.http = httpx.AsyncClient(timeout=120, headers=bench.headers(),
                                           limits=httpx.Limits(max_connections=128, max_keepalive_connections=128))
            headers = bench.headers()
            bench.wires = {s: Wire(url, headers, connections=128) for s, url in services.urls.items()}
            bench.nc = await nats.connect(servers=nats_servers(info.nats_url), name="ttct-bench")
            try:
                yield bench
            finally:
                for wire in bench.wires.values():
                    await wire.close()
                await bench.http.aclose()
                await bench.nc.close()
                for pool in bench.pools.values():
                    await pool.close()
                sampler.stop()
        finally:
            await asyncio.to_thread(services.stop)
    finally:
        stack.stop()


async def ensure_database(bench: Bench, name: str) -> str:
    await ensure_databases(bench.stack.postgres_url, [name])
    return bench.database_url(name)


async def machine(bench: Bench) -> dict:
    conn = await asyncpg.connect(bench.stack.postgres_url)
    try:
        pg = {k: await conn.fetchval(f"SHOW {k}") for k in
              ("server_version", "fsync", "synchronous_commit", "full_page_writes", "shared_buffers",
               "track_commit_timestamp")}
    finally:
        await conn.close()
    model = ""
    with contextlib.suppress(OSError):
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    versions = {}
    for package in ("asyncpg", "nats-py", "faststream", "uvicorn", "httpx", "eventsourcing", "psycopg", "psutil"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version
            versions[package] = version(package)
    git = ""
    with contextlib.suppress(Exception):
        root = Path(__file__).resolve().parents[3]
        git = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
    return {
        "cpu_model": model,
        "cores_logical": os.cpu_count(),
        "cores_physical": psutil.cpu_count(logical=False),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "postgresql": pg,
        "nats_server": (bench.nc._server_info or {}).get("version", "") if bench.nc else "",  # noqa: SLF001
        "packages": versions,
        "git": git,
        # what the services trace with (they inherit this environment): no exporter = no statement spans
        "tracing": {k: os.environ.get(k, "") for k in ("OTEL_TRACES_EXPORTER", "OTEL_TRACES_SAMPLER",
                                                        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS")},
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
