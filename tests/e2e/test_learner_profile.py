"""A learner's gender, position (chức vụ), date of party admission and party card number through the public APIs:
given on an enrolment, a JSON list or a spreadsheet with Vietnamese headers; a party admission before 18 or in the
future, or a card number that is not digits, refused with the field named; shown in the learner's record to the
centre's staff (assessment) and to the organisation that sent them (notification); sealed in the events (never in
clear in enrolment's stream); gone from both records once the learner is erased."""
from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from ttct_dev.directory import register_organisations

from tests.e2e.test_assessment_flow import Centre, until_known

pytestmark = pytest.mark.e2e
ORG = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}
PROFILE = {"gender": "female", "position": "Bí thư Chi bộ thôn 3", "party_admitted_on": "2012-05-19",
           "party_card_number": "42012345"}


async def _record(client: httpx.AsyncClient, url: str, headers: dict, classes: int = 1) -> dict:
    """The record once assessment (or notification) has heard of the learner's enrolments."""
    for _ in range(200):
        r = await client.get(url, headers=headers)
        if r.status_code == 200 and len(r.json()["classes"]) >= classes:
            return r.json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url}: {r.status_code} {r.text[:300]}")


async def test_a_learner_s_profile_is_checked_sealed_shown_in_both_records_and_erased(services, issuer, stack):
    async with httpx.AsyncClient(timeout=30) as client:
        centre = Centre(services, issuer, client)
        class_id, _ = await centre.schedule_class(1, programme="profile-e2e")
        await register_organisations(client, services.urls["enrolment"], {ORG["code"]: ORG["name"]},
                                     centre=centre.code, headers=centre.enrolment)
        base = f"{services.urls['enrolment']}/v1/centres/{centre.code}/classes/{class_id}/enrolments"
        person = {"full_name": "Nguyễn Thị Hồng Nhung", "date_of_birth": "1990-05-17", "sending_organisation": ORG}

        async def enrol(**fields) -> httpx.Response:
            return await until_known(lambda: client.post(base, headers=centre.enrolment, json={**person, **fields}))

        for fields, field in ((dict(PROFILE, party_admitted_on="2008-05-16"), "party_admitted_on"),  # at 17
                              (dict(PROFILE, party_admitted_on="2099-01-01"), "party_admitted_on"),
                              (dict(PROFILE, party_card_number="TH-12345"), "party_card_number"),
                              (dict(PROFILE, gender="x"), "gender")):
            r = await enrol(**fields)
            assert r.status_code == 422 and r.json()["type"] == "urn:ttct:problem:invalid-input", r.text
            assert [e["field"] for e in r.json()["errors"]] == [f"body.{field}"], r.json()
            assert r.json()["detail_vi"]
        r = await enrol(**PROFILE)
        assert r.status_code == 201, r.text
        learner = r.json()["learner_id"]

        # a JSON list and a spreadsheet with Vietnamese headers give the same fields
        r = await client.post(f"{base}/batch", headers=centre.enrolment, json={"sending_organisation": ORG, "rows": [
            {"full_name": "Lê Văn Tâm", "date_of_birth": "1985-01-02", "gender": "Nam", "position": "Chủ tịch Hội Nông dân",
             "party_admitted_on": "2010-03-03", "party_card_number": "42099999"},
            {"full_name": "Lê Văn Sai", "date_of_birth": "1985-01-02", "party_admitted_on": "2001-01-01"}]})
        assert r.status_code == 200, r.text
        rows = r.json()["results"]
        assert rows[0]["status"] == "enrolled" and rows[1]["status"] == "error"
        assert [(p["field"], p["code"]) for p in rows[1]["problems"]] == [("party_admitted_on", "implausible-date")]
        sheet = ("\ufeffHọ và tên,Ngày sinh,Giới tính,Chức vụ,Ngày vào Đảng,Số thẻ đảng viên\n"
                 "Trần Thị Lụa,12/04/1988,Nữ,Phó Bí thư Đoàn xã,01/07/2015,42077777\n").encode()
        r = await client.post(f"{base}/import", headers=centre.enrolment, data={"organisation_code": ORG["code"]},
                              files={"file": ("danh-sach.csv", sheet, "text/csv")})
        assert r.status_code == 200 and r.json()["results"][0]["status"] == "enrolled", r.text
        imported = r.json()["results"][0]["learner_id"]

        # the centre's staff read it in the learner's record; the organisation that sent them too
        as_staff = issuer.headers("centre-staff", centre=centre.code)
        record_url = f"{services.urls['assessment']}/v1/learners/{learner}/record"
        assert (await _record(client, record_url, as_staff))["profile"] == PROFILE
        other = await _record(client, f"{services.urls['assessment']}/v1/learners/{imported}/record", as_staff)
        assert other["profile"] == {"gender": "female", "position": "Phó Bí thư Đoàn xã",
                                    "party_admitted_on": "2015-07-01", "party_card_number": "42077777"}
        as_org = issuer.headers("organisation", org=ORG["code"])
        org_url = f"{services.urls['notification']}/v1/organisations/{ORG['code']}/learners/{learner}/record"
        assert (await _record(client, org_url, as_org))["profile"] == PROFILE

        # sealed in enrolment's stream: the card number and position are nowhere in clear
        import asyncpg
        conn = await asyncpg.connect(services.database("enrolment"))
        try:
            stored = await conn.fetch("SELECT envelope::text FROM events WHERE envelope::text LIKE '%' || $1 || '%'",
                                      learner)
        finally:
            await conn.close()
        assert stored and not [e for e in stored if "42012345" in e[0] or "Chi bộ thôn 3" in e[0]]

        # erased: neither record shows the profile any more
        r = await client.post(f"{services.urls['enrolment']}/v1/centres/{centre.code}/learners/{learner}/erasure",
                              headers=centre.enrolment, json={"reason": "the learner's written request no. 3/YC"})
        assert r.status_code in (200, 201, 202), r.text
        for _ in range(200):
            shown = [(await client.get(url, headers=h)).json().get("profile")
                     for url, h in ((record_url, as_staff), (org_url, as_org))]
            if shown == [None, None]:
                break
            await asyncio.sleep(0.05)
        assert shown == [None, None]
