"""What is sent, to whom, by webhook and by email, and the polling feed: against real NATS, PostgreSQL and a real
SMTP server (aiosmtpd); every webhook verified with the Standard Webhooks reference library."""
from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from notification_helpers import Course, eventually, publish, registered

pytestmark = pytest.mark.integration

HOA_LOC = [{"name": "Văn phòng Đảng ủy", "role": "office", "email": "vanphong@hoaloc.example.vn"},
           {"name": "Lê Văn Thắng", "role": "head of party committee", "email": "bithu@hoaloc.example.vn",
            "is_head": True}]
DOAN = [{"name": "Phạm Thị Lan", "role": "secretary", "email": "bithu@huyendoan.example.vn", "is_head": True}]
CENTRE = "Trung tâm Chính trị huyện Hậu Lộc"


def smtp_settings(smtp) -> dict:
    return {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_tls": "none",
            "centre_names": {"hau-loc": CENTRE}}


async def register(service, receiver, org, headers) -> dict:
    r = await service.http.post(f"/v1/organisations/{org}/webhook-endpoints", json={"url": receiver.url(org)},
                                headers=headers(org))
    assert r.status_code == 201, r.text
    receiver.secrets[org] = r.json()["secret"]
    return r.json()


async def get(service, org_headers, org, path):
    r = await service.http.get(f"/v1/organisations/{org}/{path}", headers=org_headers(org))
    assert r.status_code == 200, r.text
    return r.json()


def types(hits) -> list[str]:
    return sorted(h.payload["type"] for h in hits)


async def test_each_kind_goes_to_the_organisation_and_absences_also_to_the_head_of_its_party_committee(
        start_notification, js, all_receiver, smtp, org_headers, province):
    service = await start_notification(**smtp_settings(smtp))
    for org in ("xa-hoa-loc", "huyen-doan"):
        await register(service, all_receiver, org, org_headers)
    course = Course(province)
    session = uuid4()
    await publish(js, [registered(province, "xa-hoa-loc", "Đảng ủy xã Hoa Lộc", HOA_LOC),
                       registered(province, "huyen-doan", "Huyện đoàn Hậu Lộc", DOAN, "mass-organisation"),
                       course.opened(),
                       course.join("Nguyễn Văn An", "xa-hoa-loc"), course.join("Lê Thị Bình", "xa-hoa-loc"),
                       course.join("Phạm Thu Hà", "huyen-doan", "Huyện đoàn Hậu Lộc", waitlisted=True),
                       course.join("Phạm Thu Hà", "huyen-doan", promoted=True)])
    # Attendance comes days later; AttendanceRecorded has no class title, so the alert takes it from ClassOpened.
    await eventually(lambda: _at_least(all_receiver, smtp, {"xa-hoa-loc": 2, "huyen-doan": 2}, {}))
    await publish(js, [course.attendance(0, "absent", session), course.attendance(1, "present", session),
                       course.attendance(0, "absent", session),  # the same absence recorded again: no new alert
                       course.ineligible(0)])

    expected_mail = {"vanphong@hoaloc.example.vn": 4, "bithu@hoaloc.example.vn": 2, "bithu@huyendoan.example.vn": 2}
    await eventually(lambda: _at_least(all_receiver, smtp, {"xa-hoa-loc": 4, "huyen-doan": 2}, expected_mail))
    await asyncio.sleep(1.0)  # anything doubled would arrive now
    assert all(h.verified for hits in all_receiver.hits.values() for h in hits)
    assert types(all_receiver.hits["xa-hoa-loc"]) == [
        "attendance.absent", "attendance.eligibility_lost", "enrolment.confirmed", "enrolment.confirmed"]
    assert types(all_receiver.hits["huyen-doan"]) == ["enrolment.promoted", "enrolment.waitlisted"]
    assert {a: len(smtp.to(a)) for a in expected_mail} == expected_mail

    absent = next(h for h in all_receiver.hits["xa-hoa-loc"] if h.payload["type"] == "attendance.absent")
    assert absent.payload["data"]["full_name"] == "Nguyễn Văn An"
    assert absent.payload["data"]["class_title"] == course.title
    assert absent.payload["data"]["session_date"] == "2026-12-03"
    head_mails = sorted(m.subject for m in smtp.to("bithu@hoaloc.example.vn"))
    assert head_mails == [f"Học viên không đủ điều kiện dự kiểm tra: Nguyễn Văn An – {course.title}",
                          f"Học viên vắng mặt: Nguyễn Văn An – {course.title} – ngày 03/12/2026"]
    [office_absent] = [m for m in smtp.to("vanphong@hoaloc.example.vn") if m.subject.startswith("Học viên vắng")]
    assert "Kính gửi: Văn phòng Đảng ủy – Đảng ủy xã Hoa Lộc" in office_absent.html
    # the organisation's email carries the very notice its webhook did; the head's is a notice of its own
    assert office_absent.message["X-TTCT-Notice-Id"] == absent.webhook_id
    head_absent = next(m for m in smtp.to("bithu@hoaloc.example.vn") if m.subject.startswith("Học viên vắng"))
    assert head_absent.message["X-TTCT-Notice-Id"] != absent.webhook_id
    waitlisted = next(h for h in all_receiver.hits["huyen-doan"] if h.payload["type"] == "enrolment.waitlisted")
    assert waitlisted.payload["data"]["position"] == 1

    # Polling: the organisation's notices since a cursor, the same payloads and ids as its webhooks.
    page = await get(service, org_headers, "xa-hoa-loc", "feed?limit=3")
    assert len(page["data"]) == 3 and not page["done"]
    rest = await get(service, org_headers, "xa-hoa-loc", f"feed?cursor={page['next_cursor']}")
    assert rest["done"] and len(rest["data"]) == 1
    feed = page["data"] + rest["data"]
    hooks = {h.webhook_id: h.payload for h in all_receiver.hits["xa-hoa-loc"]}
    assert {item["id"] for item in feed} == set(hooks)
    assert all({k: item[k] for k in ("type", "timestamp", "data")} == hooks[item["id"]] for item in feed)
    again = await get(service, org_headers, "xa-hoa-loc", f"feed?cursor={rest['next_cursor']}")
    assert again == {"data": [], "next_cursor": rest["next_cursor"], "done": True}
    assert (await service.http.get("/v1/organisations/xa-hoa-loc/feed",
                                   headers=org_headers("huyen-doan"))).status_code == 404
    bad = await service.http.get("/v1/organisations/xa-hoa-loc/feed?cursor=abc", headers=org_headers("xa-hoa-loc"))
    assert bad.status_code == 422 and bad.json()["type"] == "urn:ttct:problem:feed-cursor-invalid"


async def _at_least(receiver, smtp, hooks: dict[str, int], mails: dict[str, int]) -> bool:
    return (all(len(receiver.delivered(o)) >= n for o, n in hooks.items())
            and all(len(smtp.to(a)) >= n for a, n in mails.items()))


async def test_a_cancelled_class_tells_every_organisation_with_learners_in_it(
        start_notification, js, all_receiver, org_headers, province):
    service = await start_notification()
    for org in ("xa-hoa-loc", "huyen-doan", "xa-da-rut"):
        await register(service, all_receiver, org, org_headers)
    course = Course(province)
    await publish(js, [course.opened(), course.join("Nguyễn Văn An", "xa-hoa-loc"),
                       course.join("Lê Thị Bình", "xa-hoa-loc"),
                       course.join("Phạm Thu Hà", "huyen-doan", "Huyện đoàn Hậu Lộc", waitlisted=True)])
    await eventually(lambda: _at_least(all_receiver, None, {"xa-hoa-loc": 2, "huyen-doan": 1}, {}))
    await publish(js, [course.cancel()])

    async def cancelled():
        got = {o: [h for h in all_receiver.hits[o] if h.payload["type"] == "class.cancelled"]
               for o in ("xa-hoa-loc", "huyen-doan")}
        return all(got.values()) and got
    await eventually(cancelled)
    await asyncio.sleep(0.5)  # a second notice would arrive now
    got = await cancelled()
    assert {o: len(h) for o, h in got.items()} == {"xa-hoa-loc": 1, "huyen-doan": 1}
    data = got["xa-hoa-loc"][0].payload["data"]
    assert data["reason"] == "Không đủ số học viên tối thiểu"
    assert [x["full_name"] for x in data["learners"]] == ["Nguyễn Văn An", "Lê Thị Bình"]  # An before Bình
    assert got["huyen-doan"][0].payload["data"]["learners"][0]["status"] == "waitlisted"
    assert all_receiver.hits["xa-da-rut"] == []  # no learner there


async def test_a_learner_whose_enrolment_is_applied_after_the_cancellation_is_told_too(
        start_notification, js, all_receiver, org_headers, province):
    """Enrolment's stream may lag scheduling's: the cancellation named the learners known then; one applied after
    it gets a cancellation notice of its own, once (a redelivery adds nothing). Which stream is applied first is
    not forced here; test_notification_cancellation.py forces each order, and concurrent application."""
    service = await start_notification()
    for org in ("xa-hoa-loc", "huyen-doan"):
        await register(service, all_receiver, org, org_headers)
    course = Course(province)
    first = course.join("Nguyễn Văn An", "xa-hoa-loc")
    await publish(js, [course.opened(), first])
    await eventually(lambda: _at_least(all_receiver, None, {"xa-hoa-loc": 1}, {}))
    await publish(js, [course.cancel()])
    late = [course.join("Trần Văn Muộn", "huyen-doan", "Huyện đoàn Hậu Lộc"),
            course.join("Lê Thị Chờ", "xa-hoa-loc", waitlisted=True)]
    await publish(js, late)
    await publish(js, late, again=True)  # copies JetStream cannot deduplicate, as a late redelivery

    def cancelled(org):
        return [h for h in all_receiver.hits[org] if h.payload["type"] == "class.cancelled"]

    def named(org):
        return sorted(x["full_name"] for h in cancelled(org) for x in h.payload["data"]["learners"])

    async def all_told():
        # Counted by learner, not by notice: nothing orders the late enrolments after the cancellation here, and
        # enrolments applied first are named in the cancellation's own notice to their organisation.
        return named("huyen-doan") and len(set(named("xa-hoa-loc"))) >= 2

    await eventually(all_told)
    await asyncio.sleep(1.0)  # a second notice to anyone would arrive now
    [told] = cancelled("huyen-doan")
    assert told.payload["data"]["reason"] == "Không đủ số học viên tối thiểu"
    assert [(x["full_name"], x["status"]) for x in told.payload["data"]["learners"]] == [("Trần Văn Muộn", "enrolled")]
    assert named("xa-hoa-loc") == ["Lê Thị Chờ", "Nguyễn Văn An"]  # each once, whichever was applied first


async def test_one_result_report_per_organisation_and_its_head_sorted_the_vietnamese_way_with_a_pdf_that_reads_back(
        start_notification, js, all_receiver, smtp, org_headers, province):
    service = await start_notification(**smtp_settings(smtp))
    await register(service, all_receiver, "xa-hoa-loc", org_headers)
    course = Course(province)
    names = ["Nguyễn Văn Đức", "Trần Thị Dung", "Lê Văn An", "Phạm Thị Ánh"]
    await publish(js, [registered(province, "xa-hoa-loc", "Đảng ủy xã Hoa Lộc", HOA_LOC),
                       registered(province, "huyen-doan", "Huyện đoàn Hậu Lộc", DOAN, "mass-organisation"),
                       course.opened(), *(course.join(n, "xa-hoa-loc") for n in names),
                       course.join("Đỗ Minh Quân", "huyen-doan", "Huyện đoàn Hậu Lộc")])
    await publish(js, course.finalise({0: ("8.5", "gioi", "HL-2026-0001"), 1: ("7.0", "kha", "HL-2026-0002"),
                                       2: (None, None, None), 3: ("9.2", "xuat_sac", "HL-2026-0003"),
                                       4: ("6.0", "trung_binh", "HL-2026-0004")}))

    async def reports():
        hooks = [h for h in all_receiver.hits["xa-hoa-loc"] if h.payload["type"] == "class.result_report"]
        mails = [m for m in smtp.mails if m.subject.startswith("Thông báo kết quả học tập")]
        return hooks and len(mails) >= 3 and (hooks, mails)
    await eventually(reports)
    await asyncio.sleep(1.0)
    hooks = [h for h in all_receiver.hits["xa-hoa-loc"] if h.payload["type"] == "class.result_report"]
    assert len(hooks) == 1  # one report for the organisation, not one per learner
    data = hooks[0].payload["data"]
    expected = ["Lê Văn An", "Phạm Thị Ánh", "Trần Thị Dung", "Nguyễn Văn Đức"]
    assert [x["full_name"] for x in data["learners"]] == expected
    assert data["title"] == "Thông báo kết quả học tập" and data["centre_name"] == CENTRE
    assert data["summary"] == {"learners": 4, "passed": 3}
    an = data["learners"][0]
    assert (an["eligible"], an["passed"], an["final_score"], an["certificate_number"]) == (False, False, None, None)
    duc = data["learners"][3]
    assert (duc["final_score"], duc["grade_label"], duc["conduct_label"], duc["certificate_number"],
            duc["sessions_attended"]) == (8.5, "Giỏi", "Tốt", "HL-2026-0001", 9)

    def reports_to(address: str) -> list:
        return [m for m in smtp.to(address) if m.subject.startswith("Thông báo kết quả")]
    mine = reports_to("vanphong@hoaloc.example.vn")
    # the head of the party committee gets the report too, as a notice of its own (not only absence alerts);
    # where the head is the only contact (Huyện đoàn) they get it once, not twice
    [head] = reports_to("bithu@hoaloc.example.vn")
    assert len(mine) == 1 and len(reports_to("bithu@huyendoan.example.vn")) == 1
    assert head.subject == mine[0].subject and head.message["X-TTCT-Notice-Id"] != hooks[0].webhook_id
    assert "Kính gửi: Lê Văn Thắng – Đảng ủy xã Hoa Lộc" in head.html and "Phạm Thị Ánh" in head.html
    assert "KẾT QUẢ HỌC TẬP" in head.pdf_text() and "Nguyễn Văn Đức" in head.pdf_text()
    notices = await get(service, org_headers, "xa-hoa-loc", "notices?notice_type=class.result_report")
    assert sorted(n["recipient"] for n in notices) == ["head", "organisation"]
    mail = mine[0]
    assert mail.subject == f"Thông báo kết quả học tập – {course.title} – {CENTRE}"
    assert mail.message["X-TTCT-Notice-Id"] == hooks[0].webhook_id
    assert "Phạm Thị Ánh" in mail.html and "HL-2026-0003" in mail.html and "Xuất sắc" in mail.html
    text = mail.pdf_text()
    assert text is not None
    flat = " ".join(text.split())
    assert "THÔNG BÁO KẾT QUẢ HỌC TẬP" in flat and CENTRE in flat and course.title in flat
    assert "Đảng ủy xã Hoa Lộc" in flat
    positions = [flat.index(n) for n in expected]
    assert positions == sorted(positions)  # the table lists them in Vietnamese order
    for certificate in ("HL-2026-0001", "HL-2026-0002", "HL-2026-0003"):
        assert certificate in flat
    assert "Xuất sắc" in flat and "Không đủ điều kiện" in flat and "Đỗ Minh Quân" not in flat


async def test_the_feed_never_skips_a_notice_whose_transaction_commits_after_a_later_one(
        start_notification, org_headers, province):
    """Two consumers (e.g. enrolment's and assessment's) commit notices concurrently: the one that took the
    lower insert position may commit last. A reader's cursor must not have passed it."""
    import json as _json
    from uuid import uuid4 as _id

    service = await start_notification()
    pool = service.app.state.runtime.pool

    def body(name):
        notice_id = _id()
        return notice_id, _json.dumps({"type": "enrolment.confirmed", "timestamp": "2026-12-01T00:00:00Z",
                                       "data": {"notice_id": str(notice_id), "full_name": name}})
    insert = ("INSERT INTO notices (notice_id, notice_type, event_id, organisation_code, centre, body)"
              " VALUES ($1, 'enrolment.confirmed', $2, 'xa-hoa-loc', 'hau-loc', $3)")
    slow = await pool.acquire()
    tx = slow.transaction()
    await tx.start()
    late_id, late = body("Nguyễn Văn An")
    await slow.execute(insert, late_id, _id(), late)  # takes the lower position, commits last
    early_id, early = body("Lê Thị Bình")
    await pool.execute(insert, early_id, _id(), early)
    page = await get(service, org_headers, "xa-hoa-loc", "feed")
    assert [item["id"] for item in page["data"]] == [str(early_id)]
    await tx.commit()
    await pool.release(slow)
    rest = await get(service, org_headers, "xa-hoa-loc", f"feed?cursor={page['next_cursor']}")
    assert [item["id"] for item in rest["data"]] == [str(late_id)]  # not lost behind the cursor
