"""One enrolment and one score, from the HTTP request to every consumer, form one trace across services.

The four services run in this process (their real apps, lifespans, relays and consumers, on the session's
NATS and PostgreSQL), so one in-memory exporter sees every span they make.
"""
import asyncio
import uuid
from contextlib import AsyncExitStack

import httpx
import pytest
from opentelemetry import trace
from ttct_dev.directory import register_organisations
from ttct_dev.receiver import WebhookReceiver
from ttct_dev.stack import database_url, ensure_databases
from ttct_dev.tokens import LocalIssuer

pytestmark = pytest.mark.integration
SERVICES = ("scheduling", "enrolment", "assessment", "notification")




async def start_all(stack: AsyncExitStack, admin_url, nats_url, province, issuer):
    import importlib

    names = {s: f"trace_{uuid.uuid4().hex[:8]}_{s}" for s in SERVICES}
    vault = f"trace_{uuid.uuid4().hex[:8]}_keys"  # one key vault for all, as in a deployment
    await ensure_databases(admin_url, [*names.values(), vault])
    clients = {}
    for service in SERVICES:
        bootstrap = importlib.import_module(f"{service}.bootstrap")
        settings_module = importlib.import_module(f"{service}.settings")
        settings_class = next(v for k, v in vars(settings_module).items() if k.endswith("Settings") and
                              k != "ServiceSettings")
        extra = {"webhook_allow_private_targets": True} if service == "notification" else {}
        settings = settings_class(database_url=database_url(admin_url, names[service]), nats_url=nats_url,
                                  province_code=province, auth_public_key_file=str(issuer.public_key_file),
                                  consumer_ack_wait=5, key_vault_url=database_url(admin_url, vault), **extra)
        app = bootstrap.create_app(settings)
        await stack.enter_async_context(app.router.lifespan_context(app))
        clients[service] = await stack.enter_async_context(httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test",
            headers=issuer.headers("centre-staff", centre="hau-loc", province=province)))
    return clients


async def eventually(condition, timeout=30.0):
    for _ in range(int(timeout / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not reached in time")


def spans_of(exporter, trace_id):
    return [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]


async def test_an_enrolment_and_a_score_each_make_one_trace_across_the_services(
        admin_url, nats_url, province, exporter, tmp_path):
    issuer = LocalIssuer(tmp_path)
    receiver = await WebhookReceiver().start()
    async with AsyncExitStack() as stack:
        http = await start_all(stack, admin_url, nats_url, province, issuer)
        org = "xa-hoa-loc"
        r = await http["notification"].post(f"/v1/organisations/{org}/webhook-endpoints",
                                             json={"url": receiver.url(org)},
                                             headers=issuer.headers("organisation", org=org, province=province))
        receiver.secrets[org] = r.json()["secret"]
        r = await http["scheduling"].post("/v1/centres/hau-loc/classes", json={
            "programme_type": "chuyen_de", "title": "Chuyên đề", "capacity": 5, "starts_on": "2026-12-01",
            "ends_on": "2026-12-02", "venue": "Hội trường"})
        class_id = r.json()["class_id"]
        await register_organisations(http["enrolment"], "", {org: "Đảng ủy xã Hoa Lộc"})
        body = {"full_name": "Trần Thị Mai", "date_of_birth": "1985-03-04",
                "sending_organisation": {"code": org, "name": "Đảng ủy xã Hoa Lộc"}}
        for _ in range(200):
            r = await http["enrolment"].post(f"/v1/centres/hau-loc/classes/{class_id}/enrolments", json=body)
            if r.status_code != 409:
                break
            await asyncio.sleep(0.05)
        assert r.status_code == 201, r.text
        enrol_trace = r.headers.get("traceparent") or None
        learner_id = r.json()["learner_id"]
        for _ in range(200):
            r = await http["assessment"].post(f"/v1/centres/hau-loc/classes/{class_id}/scores",
                                              json={"learner_id": learner_id, "score": 9.1})
            if r.status_code not in (404, 409):
                break
            await asyncio.sleep(0.05)
        assert r.status_code == 201, r.text
        await eventually(lambda: len(receiver.unique(org, "learner.result_recorded")) == 1)
        await eventually(lambda: any(s.name == "process ScoreRecorded" for s in exporter.get_finished_spans()))
    await receiver.stop()

    finished = exporter.get_finished_spans()
    server = {s.name: s for s in finished if s.kind == trace.SpanKind.SERVER and "POST" in s.name}
    enrol = next(s for n, s in server.items() if "enrolments" in n)
    score = next(s for n, s in server.items() if "scores" in n)

    in_enrol = spans_of(exporter, enrol.context.trace_id)
    names = {(s.resource.attributes.get("service.name"), s.name) for s in in_enrol}
    assert any(n == "publish LearnerEnrolled" for _, n in names)
    processed_by = {s.attributes.get("ttct.eventsourcing.consumer") for s in in_enrol if s.name == "process LearnerEnrolled"}
    assert processed_by == {f"assessment-{province}", f"notification-{province}"}

    in_score = spans_of(exporter, score.context.trace_id)
    assert any(s.name == "publish ScoreRecorded" for s in in_score)
    assert {s.attributes.get("ttct.eventsourcing.consumer") for s in in_score if s.name == "process ScoreRecorded"} == {
        f"notification-{province}"}
    # the consumers' spans are children of the request's span (its context travels in the event's metadata)
    publish = next(s for s in in_score if s.name == "publish ScoreRecorded")
    assert publish.parent is not None and publish.parent.span_id in {s.context.span_id for s in in_score}
    webhook = [s for s in in_score if s.kind == trace.SpanKind.CLIENT and "webhook" in s.name.lower()]
    assert webhook, "the webhook attempt should join the score's trace"
