"""Per channel per organisation: every notice as it happens, or a digest per class: against real NATS,
PostgreSQL and SMTP."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from notification.service_layer import digests
from notification_helpers import Course, eventually, publish, registered
from test_notification_email import HEAD, OFFICE, _org_known
from test_notification_kinds import HOA_LOC, get, register, smtp_settings

pytestmark = pytest.mark.integration
ORG = "xa-hoa-loc"


async def test_an_organisation_in_digest_mode_gets_one_digest_per_class_per_channel(
        start_notification, js, all_receiver, smtp, org_headers, province):
    service = await start_notification(**smtp_settings(smtp), digest_interval=3600)
    await register(service, all_receiver, ORG, org_headers)
    await register(service, all_receiver, "huyen-doan", org_headers)
    url = f"/v1/organisations/{ORG}/channel-settings"
    assert (await get(service, org_headers, ORG, "channel-settings")) == {"webhook": "immediate",
                                                                          "email": "immediate"}
    r = await service.http.put(url, json={"webhook": "digest", "email": "digest"}, headers=org_headers(ORG))
    assert r.status_code == 200, r.text
    assert (await service.http.put(url, json={"webhook": "weekly"}, headers=org_headers(ORG))).status_code == 422
    assert (await service.http.get(url, headers=org_headers("huyen-doan"))).status_code == 404

    one, two = Course(province), Course(province, title="Lớp Bồi dưỡng đảng viên mới khóa 3")
    await publish(js, [registered(province, ORG, "Đảng ủy xã Hoa Lộc", HOA_LOC), one.opened(), two.opened()])
    await eventually(lambda: _org_known(service))
    await publish(js, [one.join("Nguyễn Văn An", ORG), one.join("Lê Thị Bình", ORG), two.join("Trần Văn Cường", ORG),
                       one.join("Phạm Thu Hà", "huyen-doan", "Huyện đoàn Hậu Lộc")])
    await eventually(lambda: _held(service, 6))  # 3 webhook + 3 email deliveries held
    await publish(js, [one.attendance(0, "absent")])
    await eventually(lambda: _held(service, 9))  # + webhook, office and head emails of the absence
    await eventually(lambda: _count(all_receiver, "huyen-doan", 1))  # the other organisation: at once
    assert all_receiver.hits[ORG] == [] and smtp.mails == []

    pool = service.app.state.runtime.pool
    assert await digests.build(pool, datetime.now(UTC)) == 5  # webhook x2 classes; email: office x2, head x1
    assert await digests.build(pool, datetime.now(UTC)) == 0  # nothing gathered twice
    await eventually(lambda: _count(all_receiver, ORG, 2))
    await eventually(lambda: _mails(smtp, 3))
    await asyncio.sleep(0.5)
    hooks = sorted((h.payload["data"]["class_title"], h.payload["data"]["count"]) for h in all_receiver.hits[ORG])
    assert hooks == [("Lớp Bồi dưỡng đảng viên mới khóa 3", 1), (one.title, 3)]
    assert all(h.payload["type"] == "class.digest" and h.verified for h in all_receiver.hits[ORG])
    first = next(h for h in all_receiver.hits[ORG] if h.payload["data"]["count"] == 3).payload["data"]
    assert sorted(n["type"] for n in first["notices"]) == ["attendance.absent", "enrolment.confirmed",
                                                          "enrolment.confirmed"]
    subjects = sorted((m.recipients[0], m.subject) for m in smtp.mails)
    assert subjects == [(HEAD, f"Tổng hợp thông báo (1): {one.title}"),
                        (OFFICE, "Tổng hợp thông báo (1): Lớp Bồi dưỡng đảng viên mới khóa 3"),
                        (OFFICE, f"Tổng hợp thông báo (3): {one.title}")]
    assert "Học viên vắng mặt: Nguyễn Văn An" in next(m for m in smtp.mails if m.recipients == [HEAD]).html
    notices = await get(service, org_headers, ORG, "notices")
    assert {n["status"] for n in notices if n["notice_type"] != "class.digest"} == {"digested"}


async def _held(service, count) -> bool:
    pool = service.app.state.runtime.pool
    return (await pool.fetchval("SELECT count(*) FROM deliveries WHERE status = 'held'")
            + await pool.fetchval("SELECT count(*) FROM email_deliveries WHERE status = 'held'")) >= count


async def _count(receiver, org, n) -> bool:
    return len(receiver.delivered(org)) >= n


async def _mails(smtp, n) -> bool:
    return len(smtp.mails) >= n
