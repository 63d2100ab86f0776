"""Stand-ins for what is outside a release, for the render-and-run test: the identity provider's JWKS endpoint,
an OTLP/HTTP trace collector that notes which services sent spans, and the Gateway (or ingress controller) that
routes each request as the rendered HTTPRoute or Ingress says (deploy_routes.py); and, for the profile whose NATS
is not bundled, an existing NATS cluster."""
from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from deploy_chart import Rendered
from deploy_local import Network, nats_server
from deploy_routes import route
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from ttct.eventsourcing.nats_permissions import password_env
from ttct_dev.services import free_port


async def serve(app: Starlette) -> tuple[uvicorn.Server, asyncio.Task, int]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                                           lifespan="off", timeout_graceful_shutdown=2))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    return server, task, port


async def shut(server: uvicorn.Server, task: asyncio.Task) -> None:
    server.should_exit = True
    try:
        await asyncio.wait_for(task, 10)
    except TimeoutError:
        task.cancel()


def jwks_app(path: str, jwks: dict[str, Any]) -> Starlette:
    """The identity provider's JWKS endpoint."""
    return Starlette(routes=[Route(path, lambda _: JSONResponse(jwks))])


@dataclass
class Collector:
    """An OTLP/HTTP trace receiver: the service name of every span batch it is sent."""

    services: list[str] = field(default_factory=list)

    async def _traces(self, request: Request) -> Response:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        export = ExportTraceServiceRequest.FromString(await request.body())
        for spans in export.resource_spans:
            self.services += [a.value.string_value for a in spans.resource.attributes if a.key == "service.name"]
        return Response(ExportTraceServiceResponse().SerializeToString(), media_type="application/x-protobuf")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/traces", self._traces, methods=["POST"])])


def gateway_app(rendered: Rendered, network: Network, client: httpx.AsyncClient) -> Starlette:
    """The Gateway (or ingress controller) in front of the release: each request to the Service its rendered
    route names (deploy_routes, the controllers' matching rules), 404 where no route matches. Like a gateway
    with tracing on, it starts a sampled trace for a request that comes without one."""
    async def forward(request: Request) -> Response:
        # the Host header picks the console's own host; any other is the API's
        host = request.headers.get("x-forwarded-host") or request.headers.get("host", "").split(":")[0]
        named = {h for o in rendered.of("HTTPRoute") + rendered.of("Ingress") for h in
                 (o["spec"].get("hostnames") or [r.get("host") for r in o["spec"].get("rules", [])])}
        service = route(rendered, request.url.path, host if host in named else None)
        if service is None:
            return Response(status_code=404)
        target = network.targets[(network.key(service), 80)]
        headers = {k: v for k, v in request.headers.items() if k != "host"}
        headers.setdefault("traceparent", f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01")
        upstream = await client.request(
            request.method, f"http://127.0.0.1:{target.port}{request.url.path}", params=request.query_params,
            content=await request.body(), headers=headers)
        return Response(upstream.content, upstream.status_code, headers={
            k: v for k, v in upstream.headers.items() if k not in ("content-length", "transfer-encoding")})
    return Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])])


class ExternalNats:
    """An existing NATS of three JetStream servers (the default profile's), set up as docs/operations.md says:
    its users from `python -m ttct.eventsourcing.nats_permissions --format nats-conf`, their passwords in its
    environment."""

    def __init__(self, workdir: Path, province: str, passwords: dict[str, str], servers: int = 3) -> None:
        self.workdir, self.province, self.passwords = workdir, province, passwords
        self.client_ports = [free_port() for _ in range(servers)]
        self.route_ports = [free_port() for _ in range(servers)]
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        users = subprocess.run([sys.executable, "-m", "ttct.eventsourcing.nats_permissions", "--province",
                                self.province, "--format", "nats-conf"], capture_output=True, text=True, check=True)
        (self.workdir / "auth.conf").write_text(users.stdout)
        routes = ", ".join(f'"nats://127.0.0.1:{p}"' for p in self.route_ports)
        env = {**os.environ, **{password_env(user): pw for user, pw in self.passwords.items()}}
        for i, (client, cluster) in enumerate(zip(self.client_ports, self.route_ports, strict=True)):
            config = self.workdir / f"nats-{i}.conf"
            config.write_text(f'server_name: "external-{i}"\nlisten: "127.0.0.1:{client}"\n'
                              f'jetstream {{ store_dir: "{self.workdir / f"store-{i}"}" }}\n'
                              f'cluster {{ name: "external", listen: "127.0.0.1:{cluster}", routes: [{routes}] }}\n'
                              f"include auth.conf\n")
            with open(self.workdir / f"nats-{i}.log", "ab") as log:
                self.procs.append(subprocess.Popen([nats_server(), "-c", str(config)], env=env, stdout=log,
                                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
