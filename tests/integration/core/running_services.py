"""The four services in this process (their real apps, lifespans, relays and consumers, on the session's NATS and
PostgreSQL), the flow of one enrolment and one score through them, and ways to look at what they hold."""
from __future__ import annotations

import asyncio
import importlib
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import asyncpg
import httpx
from opentelemetry.instrumentation.utils import suppress_instrumentation
from ttct_dev.directory import register_organisations
from ttct_dev.receiver import WebhookReceiver
from ttct_dev.stack import database_url, ensure_databases
from ttct_dev.tokens import LocalIssuer

SERVICES = ("scheduling", "enrolment", "assessment", "notification")
ORG = "xa-hoa-loc"
# what republishing or a replay may change without a projection having changed
NOT_PROJECTIONS = {"outbox", "idempotency_keys", "personal_data_access", "consumer_failures"}


@dataclass
class Running:
    province: str
    issuer: LocalIssuer
    receiver: WebhookReceiver
    apps: dict = field(default_factory=dict)
    http: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    databases: dict[str, str] = field(default_factory=dict)

    def runtime(self, service: str):
        return self.apps[service].state.runtime

    async def settled(self, timeout: float = 60.0) -> None:
        """Until every outbox is empty and every consumer has nothing pending or unacknowledged."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if await self._quiet():
                await asyncio.sleep(0.5)
                if await self._quiet():
                    return
            await asyncio.sleep(0.2)
        raise AssertionError("the services did not settle")

    async def _quiet(self) -> bool:
        with suppress_instrumentation():  # the test's looking is no part of any trace
            return await self._quiet_untraced()

    async def _quiet_untraced(self) -> bool:
        for service in SERVICES:
            rt = self.runtime(service)
            if await rt.pool.fetchval("SELECT count(*) FROM outbox"):
                return False
            for stream, consumer in rt.consumers():
                info = await rt.jetstream.consumer_info(stream, consumer)
                if info.num_pending or info.num_ack_pending:
                    return False
        return True

    async def snapshot(self) -> dict[str, list[str]]:
        """Every row of every table of every service, but the outbox and the requests' own records."""
        seen: dict[str, list[str]] = {}
        for service, url in self.databases.items():
            conn = await asyncpg.connect(url)
            try:
                await conn.execute("SELECT set_config('ttct.scope', 'all', false)")
                tables = [r["tablename"] for r in await conn.fetch(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
                for table in tables:
                    if table not in NOT_PROJECTIONS:
                        rows = await conn.fetch(f'SELECT * FROM "{table}"')
                        seen[f"{service}.{table}"] = sorted(repr(tuple(r.values())) for r in rows)
            finally:
                await conn.close()
        return seen


async def start_all(stack: AsyncExitStack, admin_url: str, nats_url: str, province: str, tmp_path) -> Running:
    issuer = LocalIssuer(tmp_path)
    receiver = await WebhookReceiver().start()
    stack.push_async_callback(receiver.stop)
    running = Running(province, issuer, receiver)
    prefix = f"t_{uuid.uuid4().hex[:8]}"
    names = {s: f"{prefix}_{s}" for s in SERVICES}
    vault = f"{prefix}_keys"
    await ensure_databases(admin_url, [*names.values(), vault])
    for service in SERVICES:
        bootstrap = importlib.import_module(f"{service}.bootstrap")
        settings_module = importlib.import_module(f"{service}.settings")
        settings_class = next(v for k, v in vars(settings_module).items() if k.endswith("Settings") and
                              k != "ServiceSettings")
        extra = {"webhook_allow_private_targets": True} if service == "notification" else {}
        running.databases[service] = database_url(admin_url, names[service])
        settings = settings_class(database_url=running.databases[service], nats_url=nats_url,
                                  province_code=province, auth_public_key_file=str(issuer.public_key_file),
                                  consumer_ack_wait=5, key_vault_url=database_url(admin_url, vault), **extra)
        app = bootstrap.create_app(settings)
        await stack.enter_async_context(app.router.lifespan_context(app))
        running.apps[service] = app
        running.http[service] = await stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test",
            headers=issuer.headers("centre-staff", centre="hau-loc", province=province)))
    return running


async def enrol_and_score(running: Running, learners: int = 2) -> str:
    """An organisation's webhook endpoint, a class, `learners` enrolments, a score each; the class's id."""
    http, issuer, province = running.http, running.issuer, running.province
    r = await http["notification"].post(f"/v1/organisations/{ORG}/webhook-endpoints",
                                        json={"url": running.receiver.url(ORG)},
                                        headers=issuer.headers("organisation", org=ORG, province=province))
    running.receiver.secrets[ORG] = r.json()["secret"]
    r = await http["scheduling"].post("/v1/centres/hau-loc/classes", json={
        "programme_type": "chuyen_de", "title": "Chuyên đề", "capacity": 5, "starts_on": "2026-12-01",
        "ends_on": "2026-12-02", "venue": "Hội trường"})
    class_id = r.json()["class_id"]
    await register_organisations(http["enrolment"], "", {ORG: "Đảng ủy xã Hoa Lộc"})
    for n in range(learners):
        body = {"full_name": f"Trần Thị Mai {n}", "date_of_birth": "1985-03-04",
                "sending_organisation": {"code": ORG, "name": "Đảng ủy xã Hoa Lộc"}}
        for _ in range(200):
            r = await http["enrolment"].post(f"/v1/centres/hau-loc/classes/{class_id}/enrolments", json=body)
            if r.status_code != 409:
                break
            await asyncio.sleep(0.05)
        assert r.status_code == 201, r.text
        learner_id = r.json()["learner_id"]
        for _ in range(200):
            r = await http["assessment"].post(f"/v1/centres/hau-loc/classes/{class_id}/scores",
                                              json={"learner_id": learner_id, "score": 9.1})
            if r.status_code not in (404, 409):
                break
            await asyncio.sleep(0.05)
        assert r.status_code == 201, r.text
    return class_id
