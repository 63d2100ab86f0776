"""What is sent, to whom: each kind of notice is a pure function of its event; ids are uuid5 of event, kind and
recipient, so a redelivered or replayed event yields the very same notices."""
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from notification.adapters.notices import email_recipients
from notification.domain import kinds
from notification.domain.backoff import Outcome, RetryPolicy, decide_email
from notification.domain.notices import notice_id_for
from notification.domain.render import render
from ttct.contracts import EventMetadata, LearnerEnrolled
from ttct.contracts.attendance_recorded import AttendanceRecorded
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.contracts.class_results_finalised import ClassResultsFinalised
from ttct.contracts.learner_result_finalised import LearnerResultFinalised
from ttct.contracts.types import GradeBand, SendingOrganisation
from ttct.eventsourcing.eventstore import make_envelopes
from ttct.privacy.personal import ERASED, PersonalData, legacy_sealed, unseal

pytestmark = pytest.mark.unit
ORG = SendingOrganisation(code="xa-hoa-loc", name="Đảng ủy xã Hoa Lộc")
DOAN = SendingOrganisation(code="huyen-doan", name="Huyện đoàn Hậu Lộc")
CLASS = UUID(int=1)
TITLE = "Lớp Sơ cấp lý luận chính trị khóa 1"
CENTRE = kinds.Centre("hau-loc", "Trung tâm Chính trị huyện Hậu Lộc")


def env(event, event_id=None):
    meta = EventMetadata(province="thanh-hoa", centre="hau-loc", correlation_id=uuid4())
    [e] = make_envelopes("s", 0, [event], meta, now=datetime(2026, 12, 3, 8, tzinfo=UTC),
                         new_id=lambda: event_id or uuid4())
    return e


def enrolled(promoted=False):
    return LearnerEnrolled(class_id=CLASS, class_title=TITLE, learner_id=UUID(int=2),
                           personal=legacy_sealed(UUID(int=2), "Nguyễn Văn An", date(1990, 5, 17)),
                           sending_organisation=ORG, seat_number=3, from_waiting_list=promoted)


AN = PersonalData(full_name="Nguyễn Văn An", date_of_birth=date(1990, 5, 17))


def test_an_enrolment_and_a_promotion_are_notices_to_the_organisation():
    event = enrolled()
    notice = kinds.enrolment_notice(env(event), event, AN)
    assert notice.notice_type == "enrolment.confirmed" and notice.recipient == "organisation"
    promoted = enrolled(promoted=True)
    assert kinds.enrolment_notice(env(promoted), promoted, AN).notice_type == "enrolment.promoted"
    assert json.loads(notice.body)["data"]["sending_organisation"] == {"code": "xa-hoa-loc",
                                                                       "name": "Đảng ủy xã Hoa Lộc"}
    assert (json.loads(notice.body)["data"]["full_name"], json.loads(notice.body)["data"]["date_of_birth"]) == (
        "Nguyễn Văn An", "1990-05-17")


def test_a_notice_about_an_erased_learner_says_so_and_has_no_birth_date():
    event = enrolled()
    data = json.loads(kinds.enrolment_notice(env(event), event, None).body)["data"]
    assert (data["full_name"], data["date_of_birth"]) == (ERASED, None)


def test_ids_are_uuid5_of_event_kind_and_recipient_so_a_redelivery_gives_the_same_notices():
    event_id = uuid4()
    absent = AttendanceRecorded(class_id=CLASS, session_id=uuid4(), session_date=date(2026, 12, 3),
                                learner_id=UUID(int=2), personal=legacy_sealed(UUID(int=2), "Nguyễn Văn An"),
                                sending_organisation=ORG, status="absent")
    first = kinds.absence_notices(env(absent, event_id), absent, TITLE, "Nguyễn Văn An")
    assert first == kinds.absence_notices(env(absent, event_id), absent, TITLE, "Nguyễn Văn An")
    assert [n.recipient for n in first] == ["organisation", "head"]
    assert first[0].notice_id == notice_id_for("attendance.absent", event_id, "xa-hoa-loc")
    assert first[1].notice_id == notice_id_for("attendance.absent", event_id, "xa-hoa-loc#head")
    assert first[0].notice_id != first[1].notice_id


def test_a_cancelled_class_gives_one_notice_per_organisation_listing_its_learners_in_vietnamese_order():
    event = ClassCancelled(class_id=CLASS, class_title=TITLE, reason="Không đủ học viên")
    learners = [kinds.AffectedLearner(ORG, uuid4(), "Trần Văn Bình", "enrolled"),
                kinds.AffectedLearner(DOAN, uuid4(), "Phạm Thu Hà", "waitlisted"),
                kinds.AffectedLearner(ORG, uuid4(), "Lê Thị An", "enrolled")]
    notices = kinds.cancelled_notices(env(event), event, learners)
    assert [n.organisation_code for n in notices] == ["huyen-doan", "xa-hoa-loc"]
    data = json.loads(notices[1].body)["data"]
    assert [x["full_name"] for x in data["learners"]] == ["Lê Thị An", "Trần Văn Bình"]


def final(name, org, score, band, certificate=None, eligible=True):
    return LearnerResultFinalised(
        class_id=CLASS, class_title=TITLE, learner_id=(learner := uuid4()), personal=legacy_sealed(learner, name),
        sending_organisation=org,
        eligible=eligible, final_score=Decimal(score) if score else None,
        grade_band=GradeBand(band) if band else None, passed=bool(score) and band != "khong_dat",
        conduct="tot" if eligible else None, sessions_attended=9, sessions_counted=10,
        certificate_number=certificate)


def report():
    lines = [(e.sending_organisation, kinds.result_line(e, unseal(b"", e.personal).full_name)) for e in [
        final("Nguyễn Văn Đức", ORG, "8.5", "gioi", "HL-1"), final("Trần Thị Dung", ORG, "7.0", "kha", "HL-2"),
        final("Lê Văn An", ORG, None, None, eligible=False), final("Phạm Thị Ánh", ORG, "9.2", "xuat_sac", "HL-3"),
        final("Đỗ Minh Quân", DOAN, "6.0", "trung_binh", "HL-4")]]
    event = ClassResultsFinalised(class_id=CLASS, class_title=TITLE, programme_type="so_cap_llct", learners=5,
                                  passed=4)
    return kinds.report_notices(env(event), event, CENTRE, lines)


def test_one_result_report_per_organisation_and_one_for_its_head_sorted_by_given_name_then_middle_and_family_names():
    notices = report()
    assert [(n.organisation_code, n.recipient) for n in notices] == [
        ("huyen-doan", "organisation"), ("huyen-doan", "head"), ("xa-hoa-loc", "organisation"), ("xa-hoa-loc", "head")]
    assert len({n.notice_id for n in notices}) == 4
    data = json.loads(notices[2].body)["data"]
    assert json.loads(notices[3].body)["data"] | {"notice_id": None, "recipient": None} == data | {
        "notice_id": None, "recipient": None}  # the head reads the same report
    assert data["title"] == "Thông báo kết quả học tập" and data["centre_name"] == CENTRE.name
    assert [x["full_name"] for x in data["learners"]] == ["Lê Văn An", "Phạm Thị Ánh", "Trần Thị Dung",
                                                           "Nguyễn Văn Đức"]
    assert data["summary"] == {"learners": 4, "passed": 3}
    assert data["learners"][3] | {"learner_id": None} == {
        "learner_id": None, "full_name": "Nguyễn Văn Đức", "eligible": True, "sessions_attended": 9,
        "sessions_counted": 10, "final_score": 8.5, "grade_band": "gioi", "grade_label": "Giỏi", "passed": True,
        "conduct": "tot", "conduct_label": "Tốt", "certificate_number": "HL-1"}


def test_the_report_email_is_in_vietnamese_with_a_table_and_the_pdf_reads_back_exactly():
    import io

    from notification.adapters.report_pdf import render_report
    from pypdf import PdfReader
    body = json.loads(report()[2].body)
    email = render(body, "Văn phòng Đảng ủy")
    assert email.subject == f"Thông báo kết quả học tập – {TITLE} – {CENTRE.name}"
    assert "Kính gửi: Văn phòng Đảng ủy – Đảng ủy xã Hoa Lộc" in email.html
    assert "<td>8,5</td>" in email.html and "<td>Không đủ điều kiện</td>" in email.html
    text = " ".join(PdfReader(io.BytesIO(render_report(body))).pages[0].extract_text().split())
    for expected in ("THÔNG BÁO KẾT QUẢ HỌC TẬP", "ĐẢNG CỘNG SẢN VIỆT NAM", CENTRE.name, TITLE,
                     "Kính gửi: Đảng ủy xã Hoa Lộc", "Nguyễn Văn Đức", "Phạm Thị Ánh", "Xuất sắc", "Không đủ điều kiện",
                     "Rèn luyện", "HL-3", "GIÁM ĐỐC"):
        assert expected in text
    assert text.index("Lê Văn An") < text.index("Phạm Thị Ánh") < text.index("Trần Thị Dung") < text.index(
        "Nguyễn Văn Đức")


def test_the_pdf_font_is_the_pinned_package_not_a_system_font():
    from ttct.papers import fonts
    assert all("fontpkg_spectral" in f for f in fonts.register().files) and len(fonts.register().files) == 4


CONTACTS = [{"name": "Văn phòng", "email": "vp@x.vn"}, {"name": "Bí thư", "email": "bt@x.vn", "is_head": True},
            {"name": "Không có thư", "email": None}]


def test_who_is_emailed_for_the_organisation_for_the_head_and_for_all_contacts():
    assert email_recipients(CONTACTS, "organisation") == [("vp@x.vn", "Văn phòng")]
    assert email_recipients(CONTACTS, "head") == [("bt@x.vn", "Bí thư")]
    assert email_recipients(CONTACTS, "contacts") == [("vp@x.vn", "Văn phòng"), ("bt@x.vn", "Bí thư")]
    assert email_recipients(CONTACTS[1:], "organisation") == [("bt@x.vn", "Bí thư")]  # no one else: the head
    assert email_recipients([], "head") == []
    # a kind the head is sent on its own (a result report, an absence): the head is not emailed it twice
    assert email_recipients(CONTACTS[1:], "organisation", head_has_own=True) == []
    assert email_recipients(CONTACTS, "organisation", head_has_own=True) == [("vp@x.vn", "Văn phòng")]


def test_smtp_outcomes_2xx_delivered_5xx_failed_at_once_4xx_retried():
    policy = RetryPolicy((0, 5, 300), jitter=0)
    assert decide_email(1, 250, policy, lambda: 0.5).outcome is Outcome.delivered
    assert decide_email(1, 550, policy, lambda: 0.5).outcome is Outcome.failed
    assert decide_email(1, 451, policy, lambda: 0.5).delay == 5
    assert decide_email(2, None, policy, lambda: 0.5).delay == 300
    assert decide_email(3, 451, policy, lambda: 0.5).outcome is Outcome.failed


def test_during_a_rotation_both_signatures_are_sent_and_each_secret_verifies():
    from notification.adapters.sender import signed_headers
    from notification.domain.webhook_secrets import new_secret
    from standardwebhooks import Webhook
    old, new = new_secret(), new_secret()
    body = '{"type":"enrolment.confirmed"}'
    headers = signed_headers(new, "n-1", body, datetime.now(UTC), old)
    assert [s[:3] for s in headers["webhook-signature"].split(" ")] == ["v1,", "v1,"]
    assert Webhook(old).verify(body, headers) == Webhook(new).verify(body, headers) == json.loads(body)


def test_the_result_report_cites_each_organisation_s_dispatch_decisions_in_its_email_and_its_pdf():
    import io

    from notification.adapters.report_pdf import render_report
    from pypdf import PdfReader
    lines = [(e.sending_organisation, kinds.result_line(e, unseal(b"", e.personal).full_name)) for e in [
        final("Nguyễn Văn Đức", ORG, "8.5", "gioi", "HL-1"), final("Đỗ Minh Quân", DOAN, "6.0", "trung_binh", "HL-4")]]
    event = ClassResultsFinalised(class_id=CLASS, class_title=TITLE, programme_type="so_cap_llct", learners=2,
                                  passed=2)
    decisions = {ORG.code: [{"number": "125-QĐ/ĐU", "signed_on": "2026-10-28",
                             "signer": "Ban Thường vụ Đảng ủy xã Hoa Lộc"},
                            {"number": "131-QĐ/ĐU", "signed_on": "2026-11-04",
                             "signer": "Ban Thường vụ Đảng ủy xã Hoa Lộc"}]}
    notices = kinds.report_notices(env(event), event, CENTRE, lines, decisions)
    by_org = {n.organisation_code: json.loads(n.body) for n in notices if n.recipient == "organisation"}
    assert by_org[ORG.code]["data"]["dispatch_decisions"] == decisions[ORG.code]
    assert by_org[DOAN.code]["data"]["dispatch_decisions"] == []  # sent without a decision: nothing cited
    cited = ["Theo Quyết định số 125-QĐ/ĐU ngày 28/10/2026 của Ban Thường vụ Đảng ủy xã Hoa Lộc",
             "Theo Quyết định số 131-QĐ/ĐU ngày 04/11/2026 của Ban Thường vụ Đảng ủy xã Hoa Lộc"]
    email = render(by_org[ORG.code], "Văn phòng Đảng ủy")
    assert all(line in email.html for line in cited)
    text = " ".join(PdfReader(io.BytesIO(render_report(by_org[ORG.code]))).pages[0].extract_text().split())
    assert all(line in text for line in cited), text
    assert "Theo Quyết định" not in " ".join(
        PdfReader(io.BytesIO(render_report(by_org[DOAN.code]))).pages[0].extract_text().split())
