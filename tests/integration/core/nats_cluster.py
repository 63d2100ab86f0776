"""A NATS cluster (three servers, or one alone) with JetStream, on this machine, for what one server cannot show (replicas,
a client given every server's URL)."""
from __future__ import annotations

import asyncio
import socket
import subprocess
from pathlib import Path

import nats
from ttct_dev.stack import _nats_server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsCluster:
    def __init__(self, root: Path, size: int = 3) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.ports = [(_free_port(), _free_port()) for _ in range(size)]
        self.processes: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        """NATS_URL as a cluster deployment sets it: every server, comma-separated."""
        return ",".join(f"nats://127.0.0.1:{client}" for client, _ in self.ports)

    def spawn(self, index: int) -> None:
        """Start one of the servers (a cluster whose servers come up one by one, as a StatefulSet's pods do)."""
        routes = ", ".join(f"nats-route://127.0.0.1:{route}" for _, route in self.ports)
        client, route = self.ports[index]
        conf = self.root / f"n{index}.conf"
        cluster = f"cluster {{ name: test, listen: 127.0.0.1:{route}, routes: [{routes}] }}"
        conf.write_text(f"""
            server_name: n{index}
            listen: 127.0.0.1:{client}
            jetstream {{ store_dir: "{self.root / f'n{index}'}" }}
            {cluster if len(self.ports) > 1 else ""}
        """)
        log = open(self.root / f"n{index}.log", "wb")
        self.processes.append(subprocess.Popen([_nats_server(), "-c", str(conf)], stdout=log, stderr=log))

    async def start(self) -> NatsCluster:
        for i in range(len(self.ports)):
            self.spawn(i)
        for _ in range(300):  # until the cluster has elected its JetStream meta leader
            try:
                nc = await nats.connect(f"nats://127.0.0.1:{self.ports[0][0]}", max_reconnect_attempts=0)
                try:
                    await nc.jetstream().account_info()
                    return self
                finally:
                    await nc.close()
            except Exception:
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the NATS cluster did not form; {self.root}")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(10)
