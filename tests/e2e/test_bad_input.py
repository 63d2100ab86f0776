"""Bad input through the public API is a 422 problem in our words, English and Vietnamese, naming what is wrong:
never a 500, never the database's own message."""
from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

pytestmark = pytest.mark.e2e
ORGANISATION = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}


def invalid(r: httpx.Response, field: str) -> dict:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "urn:ttct:problem:invalid-input" and body["detail_vi"], body
    assert field in body["detail"], body
    return body


@pytest.fixture
async def centre(services, issuer):
    code = f"c-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("centre-staff", centre=code)) as client:
        yield code, client


async def open_class(services, centre: str, client: httpx.AsyncClient, starts_on: str = "2027-03-01") -> str:
    """A class open for enrolment, once enrolment has heard of it."""
    r = await client.post(f"{services.urls['scheduling']}/v1/centres/{centre}/classes", json={
        "programme_type": "ket_nap_dang", "title": "Lớp cảm tình Đảng", "capacity": 30, "starts_on": starts_on,
        "ends_on": starts_on, "venue": "Hội trường"})
    assert r.status_code == 201, r.text
    class_id = r.json()["class_id"]
    roster = f"{services.urls['enrolment']}/v1/centres/{centre}/classes/{class_id}/enrolments"
    for _ in range(300):
        if (await client.get(roster)).status_code == 200:
            return class_id
        await asyncio.sleep(0.05)
    raise AssertionError("enrolment never heard of the class")


async def test_control_characters_are_refused_in_our_words_before_the_database(services, centre, organisations):
    code, client = centre
    await organisations({ORGANISATION["code"]: ORGANISATION["name"]})
    title = await client.post(f"{services.urls['scheduling']}/v1/centres/{code}/classes", json={
        "programme_type": "chuyen_de", "title": "Chuyên đề\u0000 nghị quyết", "capacity": 10,
        "starts_on": "2027-03-01", "ends_on": "2027-03-02", "venue": "Hội trường"})
    body = invalid(title, "title")
    assert "control characters" in body["detail"] and "ký tự điều khiển" in body["detail_vi"]
    assert "byte sequence" not in body["detail"] and "escape" not in body["detail"]  # PostgreSQL's words
    class_id = await open_class(services, code, client)
    enrolments = f"{services.urls['enrolment']}/v1/centres/{code}/classes/{class_id}/enrolments"
    for name in ("Nguyễn\u0000Văn An", "Nguyễn Văn\u001b[31m An"):
        body = invalid(await client.post(enrolments, json={
            "full_name": name, "date_of_birth": "1990-01-01", "sending_organisation": ORGANISATION}), "full_name")
        assert "control characters" in body["detail"] and "ký tự điều khiển" in body["detail_vi"]
    kept = await client.post(enrolments, json={"full_name": "Nguyễn\tVăn  An", "date_of_birth": "1990-01-01",
                                               "sending_organisation": ORGANISATION})
    assert kept.status_code == 201 and kept.json()["full_name"] == "Nguyễn Văn An", kept.text


async def test_an_impossible_date_of_birth_is_refused_naming_the_field_and_nothing_is_stored(services, centre,
                                                                                             organisations):
    code, client = centre
    await organisations({ORGANISATION["code"]: ORGANISATION["name"]})
    class_id = await open_class(services, code, client)
    enrolments = f"{services.urls['enrolment']}/v1/centres/{code}/classes/{class_id}/enrolments"
    for born in ("2099-01-01", "1800-01-01"):
        body = invalid(await client.post(enrolments, json={
            "full_name": "Lê Văn Nhầm", "date_of_birth": born, "sending_organisation": ORGANISATION}), "date_of_birth")
        assert [e["field"] for e in body["errors"]] == ["body.date_of_birth"]
        assert "Ngày sinh" in body["detail_vi"]
    assert (await client.get(enrolments)).json() == []
    batch = await client.post(f"{enrolments}/batch", json={"sending_organisation": ORGANISATION, "rows": [
        {"full_name": "Lê Văn Nhầm", "date_of_birth": "01/01/2099"},
        {"full_name": "Lê Văn Đúng", "date_of_birth": "01/01/1990"}]})
    assert batch.status_code == 200, batch.text
    first, second = batch.json()["results"]
    assert first["status"] == "error" and [p["field"] for p in first["problems"]] == ["date_of_birth"]
    assert second["status"] == "enrolled"
    assert [r["full_name"] for r in (await client.get(enrolments)).json()] == ["Lê Văn Đúng"]


async def test_an_upload_with_too_long_an_organisation_name_is_a_422_like_the_json_batch(services, centre):
    code, client = centre
    class_id = await open_class(services, code, client)
    imports = f"{services.urls['enrolment']}/v1/centres/{code}/classes/{class_id}/enrolments"
    name = "Đảng ủy xã " + "Hoa Lộc " * 30  # over 200 characters
    upload = await client.post(f"{imports}/import", data={"organisation_code": "xa-hoa-loc", "organisation_name": name},
                               files={"file": ("ds.csv", "Họ và tên,Ngày sinh\nLê Thị Bình,12/04/1988\n".encode(),
                                               "text/csv")})
    invalid(upload, "organisation_name")
    batch = await client.post(f"{imports}/batch", json={"sending_organisation": {"code": "xa-hoa-loc", "name": name},
                                                        "rows": [{"full_name": "Lê Thị Bình",
                                                                  "date_of_birth": "12/04/1988"}]})
    invalid(batch, "name")
    broken = await client.post(f"{imports}/import", content=b"--x\r\nnot a part", headers={
        "Content-Type": "multipart/form-data; boundary=x"})
    assert broken.status_code == 422 and broken.json()["detail_vi"], broken.text
    assert (await client.get(imports)).json() == []
