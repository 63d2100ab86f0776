"""Logs never hold learners' personal data: a learner's path through every service, then every log line read."""
import uuid

import pytest

from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e


async def test_a_learners_name_birth_date_and_ids_appear_in_no_service_log(services, http, organisations):
    await organisations({"xa-hoa-loc": "Đảng ủy xã Hoa Lộc"})
    marker = uuid.uuid4().hex[:6]
    name = f"Phan Thị Riêngtư {marker}"
    national_id = f"0380{uuid.uuid4().int % 10**8:08d}"
    r = await http.post(f"{services.urls['scheduling']}/v1/centres/hau-loc/classes", json={
        "programme_type": "dang_vien_moi", "title": "Lớp đảng viên mới", "capacity": 5,
        "starts_on": "2026-12-01", "ends_on": "2026-12-03", "venue": "Hội trường"})
    class_id = r.json()["class_id"]
    enrol = f"{services.urls['enrolment']}/v1/centres/hau-loc/classes/{class_id}/enrolments"
    body = {"full_name": name, "date_of_birth": "1977-11-23", "national_id": national_id,
            "sending_organisation": {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}}
    r = await _until_known(lambda: http.post(enrol, json=body))
    assert r.status_code == 201
    assert (await http.post(enrol, json=body)).status_code == 409  # a refusal names the learner: not in logs
    scores = f"{services.urls['assessment']}/v1/centres/hau-loc/classes/{class_id}/scores"
    r = await _until_known(lambda: http.post(scores, json={"learner_id": r.json()["learner_id"], "score": 7.5}))
    assert r.status_code == 201

    logs = list(services.log_dir.glob("*.log"))
    assert len(logs) == 4
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        assert '"service started"' in text  # the scan reads real JSON log lines
        for secret in (name, marker, national_id, "1977-11-23"):
            assert secret not in text, f"{secret!r} found in {log.name}"
