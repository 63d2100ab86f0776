"""A result notice is a pure function of the ScoreRecorded event that caused it."""
import json
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from notification.domain.notices import RESULT_RECORDED, notice_id_for, overall_status, result_notice
from ttct.contracts import EventMetadata, ScoreRecorded
from ttct.contracts.types import GradeBand, SendingOrganisation
from ttct.eventsourcing.eventstore import make_envelopes
from ttct.privacy.personal import legacy_sealed

pytestmark = pytest.mark.unit


def scored(score="8.5", band=GradeBand.gioi, event_id=None):
    event = ScoreRecorded(class_id=UUID(int=1), class_title="Lớp Sơ cấp lý luận chính trị khóa 1",
                          learner_id=UUID(int=2), personal=legacy_sealed(UUID(int=2), "Nguyễn Thị Hoà"),
                          sending_organisation=SendingOrganisation(code="xa-hoa-loc", name="Đảng ủy xã Hoa Lộc"),
                          score=Decimal(score), grade_band=band)
    meta = EventMetadata(province="thanh-hoa", centre="hau-loc", correlation_id=uuid4())
    [env] = make_envelopes("assessment:result:1:2", 0, [event], meta,
                           now=datetime(2026, 12, 20, 9, 30, tzinfo=UTC), new_id=lambda: event_id or uuid4())
    return env, event, "Nguyễn Thị Hoà"  # the name opened from `personal`, as the projection passes it


def test_the_notice_carries_what_the_organisation_needs_in_vietnamese():
    env, event, name = scored()
    notice = result_notice(env, event, name)
    body = json.loads(notice.body)
    assert body["type"] == "learner.result_recorded" and body["timestamp"] == "2026-12-20T09:30:00Z"
    assert body["data"] == {
        "notice_id": str(notice.notice_id), "province": "thanh-hoa", "centre": "hau-loc",
        "class_id": str(UUID(int=1)), "class_title": "Lớp Sơ cấp lý luận chính trị khóa 1",
        "learner_id": str(UUID(int=2)), "full_name": "Nguyễn Thị Hoà", "component": "final", "score": 8.5,
        "grade_band": "gioi", "grade_label": "Giỏi",
        "sending_organisation": {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"},
    }
    assert "Giỏi" in notice.body  # UTF-8 as is, not \\u escapes
    assert notice.organisation_code == "xa-hoa-loc" and notice.event_id == env.event_id


@pytest.mark.parametrize("band, label", [(GradeBand.xuat_sac, "Xuất sắc"), (GradeBand.kha, "Khá"),
                                         (GradeBand.trung_binh, "Trung bình"), (GradeBand.khong_dat, "Không đạt")])
def test_every_grade_band_has_its_vietnamese_label(band, label):
    assert json.loads(result_notice(*scored(band=band)).body)["data"]["grade_label"] == label


def test_the_same_event_always_gives_the_same_notice_and_another_event_another():
    event_id = uuid4()
    first, again = result_notice(*scored(event_id=event_id)), result_notice(*scored(event_id=event_id))
    assert first == again  # same id and the very same bytes: a redelivery or a rebuild changes nothing
    assert first.notice_id == notice_id_for(RESULT_RECORDED, event_id)
    assert result_notice(*scored()).notice_id != first.notice_id


def test_a_notices_status_across_its_endpoints():
    assert overall_status([]) == "no_endpoint"
    assert overall_status(["failed", "delivered"]) == "delivered"
    assert overall_status(["pending", "failed"]) == "pending"
    assert overall_status(["failed", "cancelled"]) == "failed"
