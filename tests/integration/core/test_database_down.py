"""While a service's PostgreSQL is down, commands are answered 503 (problem+json, Retry-After, in English and
Vietnamese) and the service reports itself not ready; once it is back, everything works again by itself."""
import asyncio
import uuid
from contextlib import AsyncExitStack

import httpx
import pytest
from ttct_dev.faults.proxy import SwitchableProxy
from ttct_dev.directory import register_organisations
from ttct_dev.stack import database_url, ensure_databases
from ttct_dev.tokens import LocalIssuer

pytestmark = pytest.mark.integration
CLASS = {"programme_type": "chuyen_de", "title": "Chuyên đề", "capacity": 5, "starts_on": "2026-12-01",
         "ends_on": "2026-12-02", "venue": "Hội trường"}


async def test_commands_answer_503_while_postgresql_is_down_and_work_again_when_it_is_back(
        admin_url, nats_url, province, nc, tmp_path):
    from scheduling.bootstrap import create_app
    from scheduling.settings import SchedulingSettings

    name = f"t_{uuid.uuid4().hex[:8]}_scheduling"
    await ensure_databases(admin_url, [name])
    proxy = await SwitchableProxy(database_url(admin_url, name)).up()
    issuer = LocalIssuer(tmp_path)
    app = create_app(SchedulingSettings(database_url=proxy.url, nats_url=nats_url, province_code=province,
                                        auth_public_key_file=str(issuer.public_key_file)))
    classes = "/v1/centres/hau-loc/classes"
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        http = await stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://test",
            headers=issuer.headers("centre-staff", centre="hau-loc", province=province)))
        assert (await http.post(classes, json=CLASS)).status_code == 201

        await proxy.down()
        for headers in ({}, {"Idempotency-Key": str(uuid.uuid4())}):
            r = await http.post(classes, json=CLASS, headers=headers)
            assert r.status_code == 503, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert int(r.headers["retry-after"]) > 0
            assert r.json()["type"].endswith("database-unavailable") and r.json()["detail_vi"]
        ready = await http.get("/healthz/ready")
        assert ready.status_code == 503 and ready.json()["postgresql"] is False

        await proxy.up()
        for _ in range(100):
            if (await http.get("/healthz/ready")).status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert (await http.get("/healthz/ready")).json() == {"ready": True, "nats": True, "postgresql": True}
        r = await http.post(classes, json=CLASS, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 201, r.text
        relay = app.state.runtime.relay
        for _ in range(100):  # the relay is back too: both classes' events went out
            if relay.published >= 2:
                break
            await asyncio.sleep(0.1)
        assert relay.published >= 2
        await proxy.down()  # stop with the database gone: the service still stops
        await proxy.up()


async def test_a_consumer_whose_postgresql_was_down_applies_what_it_missed_when_it_is_back(
        admin_url, nats_url, province, tmp_path):
    import importlib

    names = {s: f"t_{uuid.uuid4().hex[:8]}_{s}" for s in ("scheduling", "enrolment", "keys")}
    await ensure_databases(admin_url, list(names.values()))
    proxy = await SwitchableProxy(database_url(admin_url, names["enrolment"])).up()
    issuer = LocalIssuer(tmp_path)
    http = {}
    async with AsyncExitStack() as stack:
        for service, url in (("scheduling", database_url(admin_url, names["scheduling"])), ("enrolment", proxy.url)):
            bootstrap = importlib.import_module(f"{service}.bootstrap")
            settings_class = getattr(importlib.import_module(f"{service}.settings"), f"{service.title()}Settings")
            app = bootstrap.create_app(settings_class(
                database_url=url, nats_url=nats_url, province_code=province, consumer_ack_wait=5,
                auth_public_key_file=str(issuer.public_key_file), key_vault_url=database_url(admin_url, names["keys"])))
            await stack.enter_async_context(app.router.lifespan_context(app))
            http[service] = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://test",
                headers=issuer.headers("centre-staff", centre="hau-loc", province=province)))

        await register_organisations(http["enrolment"], "", {"xa-hoa-loc": "Đảng ủy xã Hoa Lộc"})
        await proxy.down()
        opened = await http["scheduling"].post("/v1/centres/hau-loc/classes", json=CLASS)
        assert opened.status_code == 201
        enrolments = f"/v1/centres/hau-loc/classes/{opened.json()['class_id']}/enrolments"
        learner = {"full_name": "Trần Thị Mai", "date_of_birth": "1985-03-04",
                   "sending_organisation": {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}}
        await asyncio.sleep(2)  # the ClassOpened event reaches enrolment, which cannot apply it
        assert (await http["enrolment"].post(enrolments, json=learner)).status_code == 503

        await proxy.up()
        for _ in range(300):  # redelivered by JetStream and applied: enrolment knows the class
            r = await http["enrolment"].post(enrolments, json=learner)
            if r.status_code == 201:
                break
            await asyncio.sleep(0.1)
        assert r.status_code == 201, r.text


async def test_commands_answer_503_while_the_key_vaults_database_refuses_connections(admin_url, nats_url, province,
                                                                                      tmp_path):
    import importlib

    import asyncpg

    names = {s: f"t_{uuid.uuid4().hex[:8]}_{s}" for s in ("scheduling", "enrolment", "keys")}
    await ensure_databases(admin_url, list(names.values()))
    issuer = LocalIssuer(tmp_path)
    http = {}
    async with AsyncExitStack() as stack:
        for service in ("scheduling", "enrolment"):
            bootstrap = importlib.import_module(f"{service}.bootstrap")
            settings_class = getattr(importlib.import_module(f"{service}.settings"), f"{service.title()}Settings")
            app = bootstrap.create_app(settings_class(
                database_url=database_url(admin_url, names[service]), nats_url=nats_url, province_code=province,
                consumer_ack_wait=5, auth_public_key_file=str(issuer.public_key_file),
                key_vault_url=database_url(admin_url, names["keys"])))
            await stack.enter_async_context(app.router.lifespan_context(app))
            http[service] = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://test",
                headers=issuer.headers("centre-staff", centre="hau-loc", province=province)))
        await register_organisations(http["enrolment"], "", {"xa-hoa-loc": "Đảng ủy xã Hoa Lộc"})
        opened = await http["scheduling"].post("/v1/centres/hau-loc/classes", json={**CLASS, "capacity": 50})
        enrolments = f"/v1/centres/hau-loc/classes/{opened.json()['class_id']}/enrolments"

        def learner(n: int) -> dict:
            return {"full_name": f"Trần Thị Mai {n}", "date_of_birth": "1985-03-04",
                    "sending_organisation": {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}}

        for _ in range(300):  # enrolment has heard of the class
            r = await http["enrolment"].post(enrolments, json=learner(0))
            if r.status_code == 201:
                break
            await asyncio.sleep(0.1)
        assert r.status_code == 201, r.text

        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'ALTER DATABASE "{names["keys"]}" ALLOW_CONNECTIONS false')
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                                names["keys"])
            for n in (1, 2):  # each learner's data key is new: the vault must be reached
                r = await http["enrolment"].post(enrolments, json=learner(n),
                                                 headers={"Idempotency-Key": str(uuid.uuid4())})
                assert r.status_code == 503, r.text
                assert int(r.headers["retry-after"]) > 0
                assert r.json()["type"].endswith("database-unavailable")
        finally:
            await admin.execute(f'ALTER DATABASE "{names["keys"]}" ALLOW_CONNECTIONS true')
            await admin.close()
        for _ in range(100):
            r = await http["enrolment"].post(enrolments, json=learner(3))
            if r.status_code != 503:
                break
            await asyncio.sleep(0.1)
        assert r.status_code == 201, r.text
