"""NATS servers the harness runs itself, so it can kill -9 one and start it again on the same ports and store:
a three-node cluster (scenario 2) or one server alone (scenario 4). As tests/integration/core/nats_cluster.py,
plus killing and restarting a node."""
from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import nats

from ttct_dev.services import free_port
from ttct_dev.stack import _nats_server


async def _quiet(exc: Exception) -> None:
    """A node still starting refuses connections: expected, not worth a traceback."""


class NatsNodes:
    def __init__(self, root: Path, size: int = 3) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.ports = [(free_port(), free_port()) for _ in range(size)]
        self.processes: list[subprocess.Popen | None] = [None] * size

    @property
    def url(self) -> str:
        """NATS_URL as a cluster deployment sets it: every server, comma-separated."""
        return ",".join(f"nats://127.0.0.1:{client}" for client, _ in self.ports)

    def name(self, i: int) -> str:
        return f"n{i}"

    def start_node(self, i: int) -> None:
        client, route = self.ports[i]
        routes = ", ".join(f"nats-route://127.0.0.1:{r}" for _, r in self.ports)
        cluster = f"cluster {{ name: faults, listen: 127.0.0.1:{route}, routes: [{routes}] }}"
        conf = self.root / f"n{i}.conf"
        conf.write_text(f"""
            server_name: n{i}
            listen: 127.0.0.1:{client}
            jetstream {{ store_dir: "{self.root / f'n{i}'}" }}
            {cluster if len(self.ports) > 1 else ""}
        """)
        with open(self.root / f"n{i}.log", "ab") as log:
            self.processes[i] = subprocess.Popen([_nats_server(), "-c", str(conf)], stdout=log, stderr=log)

    def kill(self, i: int) -> None:
        process = self.processes[i]
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()

    async def start(self) -> NatsNodes:
        for i in range(len(self.ports)):
            self.start_node(i)
        await self.until_ready()
        return self

    async def until_ready(self, timeout: float = 30.0) -> None:
        """Until JetStream answers (with a cluster: its meta leader is elected)."""
        for _ in range(int(timeout * 10)):
            try:
                nc = await nats.connect(servers=self.url.split(","), max_reconnect_attempts=0, connect_timeout=1,
                                        error_cb=_quiet)
                try:
                    await nc.jetstream().account_info()
                    return
                finally:
                    await nc.close()
            except Exception:
                await asyncio.sleep(0.1)
        raise RuntimeError(f"NATS did not answer; {self.root}")

    async def provision(self, province: str, replicas: int, ack_wait: float = 5.0, timeout: float = 60.0) -> None:
        """The streams (R`replicas`) and durable consumers, as the chart's topology Job creates them before the
        services start; tried again while a young cluster is still too slow to answer in time."""
        from ttct.eventsourcing.topology import PUBLISHES, READS, ensure_consumers, ensure_stream

        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            nc = await nats.connect(servers=self.url.split(","), error_cb=_quiet)
            try:
                js = nc.jetstream(timeout=15)
                for context in PUBLISHES:
                    await ensure_stream(js, context, replicas)
                for reader in READS:
                    await ensure_consumers(js, reader, province, ack_wait=ack_wait)
                return
            except Exception:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(1)
            finally:
                await nc.close()

    async def stream_leader(self, stream: str) -> int:
        nc = await nats.connect(servers=self.url.split(","), error_cb=_quiet)
        try:
            info = await nc.jetstream().stream_info(stream)
            return int(info.cluster.leader.removeprefix("n"))
        finally:
            await nc.close()

    def stop(self) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in self.processes:
            if process is not None:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
