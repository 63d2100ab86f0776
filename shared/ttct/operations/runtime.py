"""What every service runs besides its own routes: the database pool and schema, the JetStream topology, the
outbox relay, the projection subscribers, health endpoints and a graceful start and stop.

A service's bootstrap builds one `Runtime` with its schema and projection handlers and mounts it on its app.
"""
from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID, uuid4

import asyncpg
import nats
import structlog
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from ttct import centres
from ttct.contracts import DomainEvent
from ttct.eventsourcing.aggregates import Aggregates, Fold
from ttct.eventsourcing.consumer import Handler, ProjectionRunner
from ttct.eventsourcing.eventstore import EventStore
from ttct.eventsourcing.nats_permissions import inbox_prefix
from ttct.eventsourcing.outbox import OutboxRelay
from ttct.eventsourcing.subscribers import Lease, PullConsumer
from ttct.eventsourcing.topology import (
    PUBLISHES,
    READS,
    durable_name,
    ensure_consumers,
    ensure_stream,
)
from ttct.operations import metrics
from ttct.operations.schema import migrate
from ttct.operations.settings import ServiceSettings
from ttct.privacy import tenancy
from ttct.privacy.personal import KeyRing

log = structlog.get_logger("ttct.operations.runtime")

Worker = Callable[["Runtime"], Awaitable[None]]


S = TypeVar("S")


class Runtime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        schema: Sequence[str] = (),
        projections: dict[str, dict[type[DomainEvent], Handler]] | None = None,
        workers: Sequence[Worker] = (),
        projection_tables: Sequence[str] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], UUID] = uuid4,
        keyring: KeyRing | None = None,
    ) -> None:
        self.settings = settings
        # every service keeps the province's register of centres, for its access checks (ttct.centres)
        self.schema = [*centres.SCHEMA, *schema]
        self.projections = projections or {}
        self.workers = workers
        # the tables its consumers build from other services' events: what `ttct.admin rebuild` empties (a name)
        # or how it resets one that also keeps the service's own decisions (an SQL statement)
        self.projection_tables = tuple(projection_tables)
        self.clock = clock
        self.new_id = new_id
        # the learners' keys (issue 7), for a service that seals or opens personal data
        self.keyring = keyring
        self.vault = keyring.vault if keyring else None
        self.pool: asyncpg.Pool
        self.store: EventStore
        self.relay: OutboxRelay | None = None
        self.pullers: list[PullConsumer] = []
        self.runners: dict[str, ProjectionRunner] = {}
        self._nc: nats.NATS | None = None
        self._tasks: list[asyncio.Task] = []

    @property
    def publishes(self) -> bool:
        return self.settings.service_name in PUBLISHES

    async def start(self) -> None:
        s = self.settings
        # The schema is migrated as the login role, the tables' owner; then every pooled connection runs as the
        # application role, which neither owns the tables nor bypasses their row-level security (ttct.privacy.tenancy).
        owner = await asyncpg.connect(s.database_url)
        try:
            await migrate(owner, [*self.schema, *tenancy.role_and_grants(s.database_app_role)])
        finally:
            await owner.close()
        # No reset round trip on every release, and none wanted: the session state pooled connections keep is
        # the role (SET ROLE in `init`, which asyncpg's default reset, RESET ALL, would undo) and the tenant scope
        # (rewritten by `setup` on every checkout); locks are transaction-scoped, but for the relay's session lock
        # on a connection it never releases.
        self.pool = await asyncpg.create_pool(s.database_url, min_size=2, max_size=s.db_pool_size,
                                              reset=tenancy.keep_session, connection_class=tenancy.ScopedConnection,
                                              init=tenancy.as_role(s.database_app_role), setup=tenancy.apply_scope)
        if self.vault is not None:
            await self.vault.connect(s.key_vault_url or s.database_url)
        self._nc = await nats.connect(servers=s.nats_servers, name=s.service_name, max_reconnect_attempts=-1,
                                      inbox_prefix=inbox_prefix(s.service_name).encode())
        js = self.jetstream = self._nc.jetstream()
        if s.provision:
            if self.publishes:
                await ensure_stream(js, s.service_name)
            await ensure_consumers(js, s.service_name, s.province_code,
                                   ack_wait=s.consumer_ack_wait)
        if self.publishes:
            self.relay = OutboxRelay(self.pool, js, batch_size=s.relay_batch_size,
                                     poll_interval=s.relay_poll_interval)
            self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        self.store = EventStore(self.pool, on_append=self.relay.wake if self.relay else None,
                                scope=tenancy.current, within=tenancy.scoped)
        durable = durable_name(s.service_name, s.province_code)
        for context, handlers in self.projections.items():
            runner = ProjectionRunner(self.pool, durable, handlers, max_deliver=s.consumer_max_deliver,
                                      after_commit=self.store.committed,
                                      prepare=self.keyring.prefetch if self.keyring else None)
            self.runners[context] = runner
            puller = PullConsumer(js, PUBLISHES[context], durable, runner, batch_size=s.consumer_batch_size,
                                  fetch_timeout=s.consumer_fetch_timeout,
                                  lease=Lease(s.database_url, f"{durable}/{PUBLISHES[context]}"))
            self.pullers.append(puller)
            self._tasks.append(asyncio.create_task(puller.run(), name=f"consume-{context}"))
        self._tasks.append(asyncio.create_task(self._sample_metrics(), name="metrics"))
        for worker in self.workers:
            self._tasks.append(asyncio.create_task(worker(self), name=getattr(worker, "__name__", "worker")))
        log.info("service started", province=s.province_code)

    def aggregates(self, initial: Callable[[], S], evolve: Callable[[S, DomainEvent], S], *,
                   fold: Fold[S] | None = None, streams: int | None = None) -> Aggregates[S]:
        """One kind of aggregate on the started store, its cache bounded as the settings say. `streams`: a kind of
        few, long streams (a centre's register of certificates: thousands of events, a few hundred bytes each)
        bounded by that many streams instead, so that one is not dropped and read whole again at every command."""
        if streams is not None:
            return Aggregates(self.store, initial, evolve, clock=self.clock, new_id=self.new_id, fold=fold,
                              cache_size=streams, cache_events=None)
        return Aggregates(self.store, initial, evolve, clock=self.clock, new_id=self.new_id, fold=fold,
                          cache_events=self.settings.aggregate_cache_events)

    def consumers(self) -> list[tuple[str, str]]:
        """(stream, durable consumer) pairs this service reads."""
        durable = durable_name(self.settings.service_name, self.settings.province_code)
        return [(PUBLISHES[c], durable) for c in READS[self.settings.service_name]]

    async def _sample_metrics(self, interval: float = 5.0) -> None:
        """Refresh the gauges that need a query: the outbox, dead letters, the JetStream consumers' lag."""
        while True:
            with contextlib.suppress(Exception):
                async with self.pool.acquire() as conn:
                    row = await conn.fetchrow(
                        "SELECT count(*) AS n, extract(epoch FROM now() - min(enqueued_at)) AS age FROM outbox")
                    metrics.OUTBOX_PENDING.set(row["n"])
                    metrics.OUTBOX_LAG.set(float(row["age"] or 0))
                    for r in await conn.fetch("SELECT consumer, count(*) AS n FROM dead_letters GROUP BY consumer"):
                        metrics.DEAD_LETTERS.labels(r["consumer"]).set(r["n"])
                for stream, consumer in self.consumers():
                    info = await self.jetstream.consumer_info(stream, consumer)
                    metrics.CONSUMER_LAG.labels(stream, consumer).set(info.num_pending)
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        # Stop pulling first and let the batch in hand finish (commit and ack); what is not acked by then is
        # redelivered to another replica or after the restart, and the checkpoints make that harmless.
        for puller in self.pullers:
            puller.stop()
        pulling = [t for t in self._tasks if t.get_name().startswith("consume-")]
        if pulling:
            await asyncio.wait(pulling, timeout=self.settings.consumer_fetch_timeout + 10)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # a cancel can be swallowed inside a library's wait_for on 3.11: never wait forever
            await asyncio.wait(self._tasks, timeout=5)
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
        await self.pool.close()
        if self.vault is not None:
            await self.vault.close()
        log.info("service stopped")

    async def ready(self) -> dict[str, bool]:
        checks = {"nats": bool(self._nc and self._nc.is_connected), "postgresql": False}
        with contextlib.suppress(Exception):
            async with self.pool.acquire(timeout=2) as conn:
                checks["postgresql"] = await conn.fetchval("SELECT true")
        return checks

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    def install(self, app: FastAPI) -> None:
        app.state.runtime = self

        @app.get("/healthz/live", include_in_schema=False)
        async def live() -> dict[str, str]:
            return {"status": "ok"}

        @app.get("/healthz/ready", include_in_schema=False)
        async def ready() -> JSONResponse:
            checks = await self.ready()
            return JSONResponse({"ready": all(checks.values()), **checks}, status_code=200 if all(checks.values()) else 503)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run the service until SIGINT/SIGTERM; uvicorn then finishes in-flight requests and runs the shutdown."""
    # Idle keep-alive connections are kept longer than the clients' own pools keep them (httpx 5 s, a gateway's
    # 60 s): with equal limits, a client may send on a connection at the moment the server closes it, and the
    # request fails with "server disconnected" though nothing is wrong (seen between the console and assessment).
    config = uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_config=None,
                            access_log=False, lifespan="on", timeout_graceful_shutdown=20, timeout_keep_alive=75)
    try:
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        # Ctrl-C (to the whole process group under `make run`): uvicorn has already shut down cleanly and then
        # re-raised the signal, for the exit status; a traceback in the log would only look like a crash.
        raise SystemExit(128 + signal.SIGINT) from None
