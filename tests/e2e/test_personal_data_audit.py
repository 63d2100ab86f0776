"""Every read or change of a learner's personal data is in the centre's audit log, with who and how."""
import pytest

from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e


async def test_reads_and_changes_of_a_learner_are_logged_for_the_centre(services, http, issuer, organisations):
    await organisations({"xa-hoa-loc": "Đảng ủy xã Hoa Lộc"})
    r = await http.post(f"{services.urls['scheduling']}/v1/centres/hau-loc/classes", json={
        "programme_type": "ket_nap_dang", "title": "Lớp kết nạp Đảng", "capacity": 5,
        "starts_on": "2026-12-01", "ends_on": "2026-12-03", "venue": "Hội trường"})
    enrol = f"{services.urls['enrolment']}/v1/centres/hau-loc/classes/{r.json()['class_id']}/enrolments"
    body = {"full_name": "Vũ Đình Kiểm", "date_of_birth": "1988-08-08",
            "sending_organisation": {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}}
    r = await _until_known(lambda: http.post(enrol, json=body))
    learner = r.json()["learner_id"]
    reader = issuer.headers("lecturer", centre="hau-loc", subject="giang-vien-tuan")
    assert (await http.get(enrol, headers=reader)).status_code == 200

    log = f"{services.urls['enrolment']}/v1/centres/hau-loc/personal-data-access/enrolment"
    entries = (await http.get(log, params={"learner_id": learner})).json()
    seen = [(e["role"], e["action"], e["route"]) for e in entries]
    assert ("lecturer", "read", "GET /v1/centres/{centre}/classes/{class_id}/enrolments") in seen
    assert ("centre-staff", "change", "POST /v1/centres/{centre}/classes/{class_id}/enrolments") in seen
    assert any(e["caller"] == "giang-vien-tuan" for e in entries)
    other = issuer.headers("centre-staff", centre="nga-son")
    assert (await http.get(log, headers=other)).status_code == 404
    assert (await http.get(log, headers=reader)).status_code == 403
