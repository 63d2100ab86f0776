"""Eligibility given back is told as its loss was: to the sending organisation and, as a notice of its own, to the
head of its party committee, in Vietnamese."""
import json
from decimal import Decimal
from uuid import UUID

import pytest
from notification.domain import kinds
from notification.domain.render import render
from ttct.contracts.eligibility_lost import EligibilityLost
from ttct.contracts.eligibility_restored import EligibilityRestored
from ttct.privacy.personal import legacy_sealed

from tests.unit.notification.test_notification_kinds import CLASS, ORG, TITLE, env

pytestmark = pytest.mark.unit


def change(kind, absences):
    return kind(class_id=CLASS, class_title=TITLE, learner_id=UUID(int=2),
                personal=legacy_sealed(UUID(int=2), "Nguyễn Văn An"), sending_organisation=ORG,
                sessions_counted=10, absences=absences, max_absence_ratio=Decimal("0.2"))


def test_eligibility_restored_goes_to_the_organisation_and_its_head_as_its_own_kind():
    notices = kinds.eligibility_notices(env(change(EligibilityRestored, 2)), change(EligibilityRestored, 2),
                                        "Nguyễn Văn An")
    assert [(n.notice_type, n.recipient) for n in notices] == [
        (kinds.ELIGIBILITY_RESTORED, "organisation"), (kinds.ELIGIBILITY_RESTORED, "head")]
    assert kinds.ELIGIBILITY_RESTORED in kinds.HEAD_TOO
    data = json.loads(notices[0].body)["data"]
    assert (data["full_name"], data["absences"], data["sessions_counted"]) == ("Nguyễn Văn An", 2, 10)

    email = render(json.loads(notices[1].body), "Lê Văn Thắng")
    assert email.subject == f"Học viên đủ điều kiện dự kiểm tra trở lại: Nguyễn Văn An – {TITLE}"
    assert "vắng 2/10 buổi" in email.text and "đủ điều kiện dự kiểm tra cuối khóa trở lại" in email.text


def test_the_loss_and_the_return_of_the_same_learner_are_different_notices():
    lost, restored = change(EligibilityLost, 3), change(EligibilityRestored, 2)
    [lost_notice, _] = kinds.eligibility_notices(env(lost), lost, "Nguyễn Văn An")
    [restored_notice, _] = kinds.eligibility_notices(env(restored), restored, "Nguyễn Văn An")
    assert lost_notice.notice_type == kinds.ELIGIBILITY_LOST
    assert lost_notice.notice_id != restored_notice.notice_id
