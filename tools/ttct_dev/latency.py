"""How long one learner's path takes end to end, on a private stack: from the enrolment request to the
notification service knowing the learner, and from the score request to the signed notice arriving at the
organisation's webhook receiver. Sequential requests, so each figure is the unloaded latency.

    python -m ttct_dev.latency [--samples 50]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from ttct_dev.demo import _until_known
from ttct_dev.directory import register_organisations
from ttct_dev.receiver import WebhookReceiver
from ttct_dev.services import Services
from ttct_dev.stack import LocalStack
from ttct_dev.tokens import LocalIssuer


async def measure(services: Services, issuer: LocalIssuer, samples: int) -> dict[str, list[float]]:
    receiver = await WebhookReceiver().start()
    org = "xa-hoa-loc"
    staff = issuer.headers("centre-staff", centre="hau-loc")
    notification_db = await asyncpg.connect(services.database("notification"))
    out: dict[str, list[float]] = {"enrolment → notification knows the learner": [], "score → signed webhook": []}
    try:
        async with httpx.AsyncClient(timeout=30, headers=staff) as http:
            r = await http.post(f"{services.urls['notification']}/v1/organisations/{org}/webhook-endpoints",
                                json={"url": receiver.url(org)}, headers=issuer.headers("organisation", org=org))
            receiver.secrets[org] = r.json()["secret"]
            await register_organisations(http, services.urls["enrolment"], {org: "Đảng ủy xã Hoa Lộc"})
            r = await http.post(f"{services.urls['scheduling']}/v1/centres/hau-loc/classes", json={
                "programme_type": "chuyen_de", "title": "Đo độ trễ", "capacity": samples + 1,
                "starts_on": "2026-12-01", "ends_on": "2026-12-02", "venue": "Hội trường"})
            class_id = r.json()["class_id"]
            base = f"/v1/centres/hau-loc/classes/{class_id}"
            for i in range(samples):
                body = {"full_name": f"Học Viên Số {i}", "date_of_birth": "1990-01-01",
                        "sending_organisation": {"code": org, "name": "Đảng ủy xã Hoa Lộc"}}
                started = time.perf_counter()
                r = await _until_known(lambda: http.post(f"{services.urls['enrolment']}{base}/enrolments", json=body))
                learner = r.json()["learner_id"]
                while not await notification_db.fetchval(
                        "SELECT EXISTS (SELECT 1 FROM organisation_learners WHERE learner_id = $1)", learner):
                    await asyncio.sleep(0.001)
                out["enrolment → notification knows the learner"].append(time.perf_counter() - started)
                before = len(receiver.unique(org, "learner.result_recorded"))
                started = time.perf_counter()
                await _until_known(lambda: http.post(f"{services.urls['assessment']}{base}/scores",
                                                     json={"learner_id": learner, "score": 8.0}))
                while len(receiver.unique(org, "learner.result_recorded")) == before:
                    await asyncio.sleep(0.001)
                out["score → signed webhook"].append(time.perf_counter() - started)
    finally:
        await notification_db.close()
        await receiver.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ttct-latency-") as tmp:
        issuer = LocalIssuer(Path(tmp))
        with LocalStack(Path(tmp) / "stack") as stack, Services(
                stack.start(), issuer, log_dir=Path(tmp), env={"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}) as services:
            results = asyncio.run(measure(services, issuer, args.samples))
    for name, values in results.items():
        ms = sorted(v * 1000 for v in values)
        print(f"{name}: median {statistics.median(ms):.1f} ms, p90 {ms[int(len(ms) * 0.9) - 1]:.1f} ms, "
              f"max {ms[-1]:.1f} ms over {len(ms)} sequential samples (durable PostgreSQL)")


if __name__ == "__main__":
    main()
