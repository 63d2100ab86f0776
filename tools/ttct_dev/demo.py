"""`make demo`: the seed article's story through the public HTTP API, on a private stack it starts and stops.

The Hậu Lộc political centre (Thanh Hóa) opens 3 classes; 10 sending organisations register a webhook receiver
(run here, on loopback) and send 20 learners each; every learner's score is recorded. Each organisation must
then receive exactly one signed result notice per learner it sent, or the demo exits non-zero.
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ttct_dev.directory import register_organisations
from ttct_dev.receiver import WebhookReceiver
from ttct_dev.services import Services
from ttct_dev.stack import LocalStack
from ttct_dev.tokens import LocalIssuer

CENTRE = "hau-loc"
RESULT = "learner.result_recorded"  # the notice each learner's score produces
ORGANISATIONS = [
    ("xa-hoa-loc", "Đảng ủy xã Hoa Lộc"), ("xa-lien-loc", "Đảng ủy xã Liên Lộc"),
    ("tt-hau-loc", "Đảng ủy thị trấn Hậu Lộc"), ("xa-ngu-loc", "Đảng ủy xã Ngư Lộc"),
    ("xa-da-loc", "Đảng ủy xã Đa Lộc"), ("huyen-doan", "Huyện đoàn Hậu Lộc"),
    ("hoi-phu-nu", "Hội Liên hiệp Phụ nữ huyện Hậu Lộc"), ("hoi-nong-dan", "Hội Nông dân huyện Hậu Lộc"),
    ("lien-doan-ld", "Liên đoàn Lao động huyện Hậu Lộc"), ("mat-tran", "Ủy ban MTTQ huyện Hậu Lộc"),
]
CLASSES = [
    ("so_cap_llct", "Lớp Sơ cấp lý luận chính trị khóa 1 năm 2026"),
    ("ket_nap_dang", "Lớp bồi dưỡng lý luận chính trị cho đối tượng kết nạp Đảng"),
    ("dang_vien_moi", "Lớp bồi dưỡng đảng viên mới"),
]
FAMILY = ["Nguyễn", "Lê", "Trần", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đình", "Hữu", "Minh", "Thu"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Long", "Mai", "Nam", "Ngọc", "Phương",
         "Quân", "Sơn", "Thảo", "Trang", "Tuấn", "Vân", "Yến"]


@dataclass
class Outcome:
    sent: dict[str, int]
    received: dict[str, int]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(self.received.get(org) == n for org, n in self.sent.items())


async def _until_known(call, attempts: int = 200):
    """Commands on facts another service publishes may arrive before it has heard them: retry briefly."""
    for _ in range(attempts):
        response = await call()
        if response.status_code not in (404, 409) or response.json().get("type", "").split(":")[-1] not in (
                "class-unknown", "learner-not-in-class"):
            return response
        await asyncio.sleep(0.05)
    return response


async def play(urls: dict[str, str], receiver: WebhookReceiver, issuer: LocalIssuer, *,
               organisations=ORGANISATIONS, learners_each: int = 20, timeout: float = 90.0) -> Outcome:
    """The story; each actor calls with its own token: the centre's staff, and each organisation."""
    started = time.monotonic()
    http = httpx.AsyncClient(timeout=30, headers=issuer.headers("centre-staff", centre=CENTRE))
    for code, _ in organisations:
        r = await http.post(f"{urls['notification']}/v1/organisations/{code}/webhook-endpoints",
                            json={"url": receiver.url(code), "description": "Văn phòng cấp ủy"},
                            headers=issuer.headers("organisation", org=code))
        r.raise_for_status()
        receiver.secrets[code] = r.json()["secret"]
    await register_organisations(http, urls["enrolment"], dict(organisations), centre=CENTRE)  # enrolment knows them
    class_ids = []
    seats = len(organisations) * learners_each // len(CLASSES) + 1
    for programme, title in CLASSES:
        r = await http.post(f"{urls['scheduling']}/v1/centres/{CENTRE}/classes", json={
            "programme_type": programme, "title": title, "capacity": seats, "starts_on": "2026-12-01",
            "ends_on": "2026-12-20", "venue": "Hội trường Trung tâm Chính trị huyện Hậu Lộc"})
        r.raise_for_status()
        class_ids.append(r.json()["class_id"])

    async def send(i: int, code: str, name: str) -> tuple[str, str]:
        class_id = class_ids[i % len(class_ids)]
        full_name = f"{FAMILY[i % 10]} {MIDDLE[i % 6]} {GIVEN[i % 20]}"
        body = {"full_name": full_name, "date_of_birth": f"19{70 + i % 30}-0{1 + i % 9}-1{i % 9}",
                "sending_organisation": {"code": code, "name": name}}
        r = await _until_known(lambda: http.post(f"{urls['enrolment']}/v1/centres/{CENTRE}/classes/{class_id}/enrolments",
                                                 json=body))
        r.raise_for_status()
        learner_id = r.json()["learner_id"]
        score = round(4.0 + (i * 37 % 61) / 10, 1)
        r = await _until_known(lambda: http.post(f"{urls['assessment']}/v1/centres/{CENTRE}/classes/{class_id}/scores",
                                                 json={"learner_id": learner_id, "score": score}))
        r.raise_for_status()
        return code, learner_id

    jobs = [send(o * learners_each + k, code, name) for o, (code, name) in enumerate(organisations)
            for k in range(learners_each)]
    await asyncio.gather(*jobs)
    sent = {code: learners_each for code, _ in organisations}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(len(receiver.unique(c, RESULT)) < n for c, n in sent.items()):
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a duplicate would show up now
    await http.aclose()
    return Outcome(sent, {c: len(receiver.unique(c, RESULT)) for c in sent}, time.monotonic() - started)


def report(outcome: Outcome, receiver: WebhookReceiver) -> None:
    for code, name in ORGANISATIONS:
        notices = receiver.unique(code, RESULT)
        print(f"\n{name} ({code}): {len(notices)} notices for {outcome.sent.get(code, 0)} learners sent")
        for r in sorted(notices, key=lambda r: r.payload["data"]["full_name"])[:3]:
            d = r.payload["data"]
            print(f"  ✓ {d['full_name']:<22} {d['score']:>4}  {d['grade_label']:<10} {d['class_title'][:40]}")
        if len(notices) > 3:
            print(f"  … and {len(notices) - 3} more, every signature verified")
    unsigned = sum(1 for rs in receiver.received.values() for r in rs if not r.verified)
    print(f"\n{'PASS' if outcome.ok else 'FAIL'}: {sum(outcome.received.values())} notices for "
          f"{sum(outcome.sent.values())} learners in {outcome.seconds:.1f} s; {unsigned} deliveries failed verification")


async def _play_and_report(urls: dict[str, str], issuer: LocalIssuer) -> bool:
    receiver = await WebhookReceiver().start()
    try:
        outcome = await play(urls, receiver, issuer)
    finally:
        await receiver.stop()
    report(outcome, receiver)
    return outcome.ok


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ttct-demo-") as tmp:
        issuer = LocalIssuer(Path(tmp))
        with LocalStack(Path(tmp) / "stack", durable=False) as stack, Services(
                stack.start(), issuer, log_dir=Path(tmp), env={"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}) as services:
            ok = asyncio.run(_play_and_report(services.urls, issuer))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
