"""The province's directory of sending organisations through enrolment's HTTP API: the hierarchy with its
contacts, registered, updated, listed and read back, and who may change it."""
from __future__ import annotations

import uuid

import httpx
import pytest
from ttct.http.auth import ROLE_PERMISSIONS, Role
from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e
STAFF_HAS_THEM = {"organisations:read", "organisations:write"} <= ROLE_PERMISSIONS[Role.centre_staff]
HEAD = {"name": "Lê Văn Bình", "role": "head of party committee", "phone": "0912 345 678", "is_head": True}


def writer(issuer) -> dict:
    # Centre staff of any centre may register organisations; until ROLE_PERMISSIONS grants them
    # organisations:read|write (the lead's change, see the enrolment report), a province admin stands in.
    if STAFF_HAS_THEM:
        return issuer.headers("centre-staff", centre="nga-son")
    return issuer.headers("province-admin")


class Directory:
    """The directory's URL, paths relative to it ("" is the collection itself)."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client, self.url = client, url

    def __getattr__(self, method: str):
        call = getattr(self.client, method)
        return lambda path, **kw: call(self.url + path, **kw)


@pytest.fixture
async def directory(services, issuer):
    async with httpx.AsyncClient(timeout=30, headers=writer(issuer)) as client:
        yield Directory(client, f"{services.urls['enrolment']}/v1/sending-organisations")


async def test_a_centre_area_its_party_committee_and_a_party_cell_are_registered_updated_and_read_back(directory):
    tag = uuid.uuid4().hex[:6]
    area, committee, cell = f"hau-loc-{tag}", f"xa-hoa-loc-{tag}", f"chi-bo-thon-1-{tag}"
    r = await directory.post("", json={"code": area, "name": "Địa bàn huyện Hậu Lộc", "kind": "centre-area",
                                       "centre": "hau-loc"})
    assert r.status_code == 201, r.text
    office = {"name": "Văn phòng Đảng ủy", "role": "office", "email": "vp@hoaloc.vn"}
    r = await directory.post("", json={"code": committee, "name": "Đảng ủy xã Hoa Lộc", "kind": "party-committee",
                                       "parent_code": area, "centre": "hau-loc", "contacts": [HEAD, office]})
    assert r.status_code == 201, r.text
    assert r.json()["contacts"][0] == {**HEAD, "email": None}
    r = await directory.post("", json={"code": cell, "name": "Chi bộ thôn 1", "kind": "party-cell",
                                       "parent_code": committee, "centre": "hau-loc",
                                       "contacts": [{"name": "Phạm Thị Thu", "role": "secretary", "is_head": True}]})
    assert r.status_code == 201, r.text

    assert (await directory.get(f"/{area}")).json()["children"] == 1
    children = (await directory.get("", params={"parent": committee})).json()
    assert [c["code"] for c in children] == [cell]
    kinds = {o["code"]: o["kind"] for o in (await directory.get("", params={"centre": "hau-loc"})).json()}
    assert kinds[area] == "centre-area" and kinds[committee] == "party-committee" and kinds[cell] == "party-cell"

    new_head = {**HEAD, "name": "Trần Thị Hoa"}
    r = await directory.put(f"/{committee}", json={"name": "Đảng ủy xã Hoa Lộc", "kind": "party-committee",
                                                   "parent_code": area, "centre": "hau-loc",
                                                   "contacts": [new_head, office]})
    assert r.status_code == 200, r.text
    got = (await directory.get(f"/{committee}")).json()
    assert got["contacts"][0]["name"] == "Trần Thị Hoa" and got["updated_at"] > got["registered_at"]


async def test_the_directory_refuses_what_would_break_it(directory):
    tag = uuid.uuid4().hex[:6]
    area = f"area-{tag}"
    assert (await directory.post("", json={"code": area, "name": "Địa bàn", "kind": "centre-area",
                                           "centre": "hau-loc"})).status_code == 201
    again = await directory.post("", json={"code": area, "name": "Địa bàn", "kind": "centre-area", "centre": "hau-loc"})
    assert again.status_code == 409 and again.json()["type"].endswith("organisation-exists")
    body = {"code": f"xa-{tag}", "name": "Đảng ủy xã", "kind": "commune", "centre": "hau-loc", "contacts": [HEAD]}
    r = await directory.post("", json={**body, "parent_code": f"khong-co-{tag}"})
    assert r.status_code == 422 and r.json()["type"].endswith("parent-unknown")
    r = await directory.post("", json={**body, "parent_code": area, "contacts": []})
    assert r.status_code == 422 and r.json()["type"].endswith("head-contact-missing")
    assert "người đứng đầu cấp ủy" in r.json()["detail_vi"]
    r = await directory.post("", json={**body, "parent_code": area, "code": "Not A Slug"})
    assert r.status_code == 422
    r = await directory.put(f"/khong-co-{tag}", json={k: v for k, v in body.items() if k != "code"})
    assert r.status_code == 404
    assert (await directory.get(f"/khong-co-{tag}")).status_code == 404


async def test_organisations_and_lecturers_may_not_change_the_directory(directory, issuer):
    body = {"code": f"x-{uuid.uuid4().hex[:6]}", "name": "Đơn vị", "kind": "centre-area", "centre": "hau-loc"}
    for headers in (issuer.headers("organisation", org="xa-hoa-loc"), issuer.headers("lecturer", centre="hau-loc")):
        r = await directory.post("", json=body, headers=headers)
        assert r.status_code == 403, r.text
    r = await directory.post("", json=body, headers={"Authorization": ""})
    assert r.status_code == 401


async def test_the_api_document_says_an_organisation_needs_its_head_among_its_contacts(directory, services):
    document = httpx.get(f"{services.urls['enrolment']}/openapi.json", timeout=30).json()
    contacts = document["components"]["schemas"]["RegisterOrganisation"]["properties"]["contacts"]
    assert '"is_head": true' in contacts["description"] and "head-contact-missing" in contacts["description"]
    code = f"org-{uuid.uuid4().hex[:8]}"
    area = await directory.post("", json={"code": code, "name": "Khu vực Trung tâm thử", "kind": "centre-area",
                                          "centre": "hau-loc"})
    assert area.status_code == 201, area.text  # a centre area has no party committee of its own to name
    headless = await directory.post("", json={"code": f"{code}-xa", "name": "Đảng ủy xã thử", "kind": "commune",
                                              "parent_code": code, "centre": "hau-loc",
                                              "contacts": [{**HEAD, "is_head": False}]})
    assert headless.status_code == 422 and headless.json()["type"] == "urn:ttct:problem:head-contact-missing"
    assert "is_head" in headless.json()["detail"]


async def _class_enrolment_knows(services, http) -> str:
    """The enrolments URL of a new class of Hậu Lộc, once enrolment has heard of the class."""
    r = await http.post(f"{services.urls['scheduling']}/v1/centres/hau-loc/classes", json={
        "programme_type": "nghiep_vu", "title": "Lớp nghiệp vụ công tác Đảng", "capacity": 10,
        "starts_on": "2027-04-01", "ends_on": "2027-04-03", "venue": "Hội trường"})
    assert r.status_code == 201, r.text
    url = f"{services.urls['enrolment']}/v1/centres/hau-loc/classes/{r.json()['class_id']}/enrolments"
    assert (await _until_known(lambda: http.get(url))).status_code == 200
    return url


async def test_enrolment_takes_only_organisations_of_the_directory_and_names_them_as_it_does(
        directory, services, http):
    tag = uuid.uuid4().hex[:6]
    known, unknown = f"xa-dong-loc-{tag}", f"xa-khong-co-{tag}"
    r = await directory.post("", json={"code": known, "name": "Đảng ủy xã Đồng Lộc", "kind": "commune",
                                       "centre": "hau-loc", "contacts": [HEAD]})
    assert r.status_code == 201, r.text
    url = await _class_enrolment_knows(services, http)
    learner = {"full_name": "Lê Thị Mận", "date_of_birth": "1991-06-01"}

    r = await http.post(url, json={**learner, "sending_organisation": {"code": unknown, "name": "Đảng ủy xã Lạ"}})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    problem = r.json()
    assert problem["type"] == "urn:ttct:problem:organisation-not-registered"
    assert unknown in problem["detail"] and unknown in problem["detail_vi"] and "danh mục" in problem["detail_vi"]
    assert problem["errors"][0]["field"] == "body.sending_organisation.code"
    assert (await http.get(url)).json() == []  # nobody enrolled

    # the directory names the organisation: a name in the request is not used, with or without it
    r = await http.post(url, json={**learner, "sending_organisation": {"code": known, "name": "ĐU Đồng Lộc"}})
    assert r.status_code == 201, r.text
    assert (r.json()["organisation_code"], r.json()["organisation_name"]) == (known, "Đảng ủy xã Đồng Lộc")
    r = await http.post(url, json={"full_name": "Trần Văn Đào", "date_of_birth": "1990-02-02",
                                   "sending_organisation": {"code": known}})
    assert r.status_code == 201, r.text
    assert {e["organisation_name"] for e in (await http.get(url)).json()} == {"Đảng ủy xã Đồng Lộc"}

    # a list reports the unregistered code on its row and imports the others
    rows = [{"full_name": "Phạm Văn Cam", "date_of_birth": "1989-01-01"},
            {"full_name": "Hồ Thị Quýt", "date_of_birth": "1988-01-01", "organisation_code": unknown}]
    r = await http.post(f"{url}/batch", json={"sending_organisation": {"code": known}, "rows": rows})
    assert r.status_code == 200, r.text
    first, second = r.json()["results"]
    assert first["status"] == "enrolled" and second["status"] == "error"
    assert [(p["field"], p["code"]) for p in second["problems"]] == [("organisation_code",
                                                                       "organisation-not-registered")]
    assert unknown in second["problems"][0]["detail"] and unknown in second["problems"][0]["detail_vi"]
    upload = f"Họ và tên,Ngày sinh,Mã đơn vị\nĐinh Văn Bưởi,03/03/1987,{unknown}\nVõ Thị Na,04/04/1986,\n"
    r = await http.post(f"{url}/import", data={"organisation_code": known},
                        files={"file": ("ds.csv", upload.encode(), "text/csv")})
    assert r.status_code == 200, r.text
    assert [(row["row"], row["status"]) for row in r.json()["results"]] == [(2, "error"), (3, "enrolled")]
    assert r.json()["results"][0]["problems"][0]["code"] == "organisation-not-registered"
    r = await http.post(f"{url}/import", data={"organisation_code": unknown},
                        files={"file": ("ds.csv", "Họ và tên,Ngày sinh\nLý Văn Mít,05/05/1985\n".encode(),
                                        "text/csv")})
    assert [row["problems"][0]["code"] for row in r.json()["results"]] == ["organisation-not-registered"]
    names = [(e["full_name"], e["organisation_code"]) for e in (await http.get(url)).json()]
    assert sorted(names) == sorted([("Lê Thị Mận", known), ("Trần Văn Đào", known), ("Phạm Văn Cam", known),
                                    ("Võ Thị Na", known)])
