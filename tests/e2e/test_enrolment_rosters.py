"""Enrolment through its HTTP API on the running services: quotas and waiting lists under concurrent requests,
promotion, withdrawal, transfer, a cancelled class, and bulk imports (CSV, XLSX, JSON) with a preflight."""
from __future__ import annotations

import asyncio
import io
import time
import uuid

import httpx
import pytest

from ttct_dev.demo import _until_known

pytestmark = pytest.mark.e2e
CLASS = {"programme_type": "ket_nap_dang", "title": "Lớp bồi dưỡng đối tượng kết nạp Đảng", "capacity": 30,
         "starts_on": "2027-04-01", "ends_on": "2027-04-05", "venue": "Hội trường Trung tâm"}
ORGS = {"xa-a": "Đảng ủy xã Hoa Lộc", "xa-b": "Đảng ủy xã Liên Lộc", "xa-c": "Đảng ủy xã Ngư Lộc"}


class Centre:
    def __init__(self, services, http: httpx.AsyncClient, code: str = "hau-loc") -> None:
        self.http, self.code = http, code
        self.scheduling = f"{services.urls['scheduling']}/v1/centres/{code}"
        self.enrolment = f"{services.urls['enrolment']}/v1/centres/{code}"

    async def open_class(self, **overrides) -> str:
        r = await self.http.post(f"{self.scheduling}/classes", json={**CLASS, **overrides})
        assert r.status_code == 201, r.text
        class_id = r.json()["class_id"]
        await _until_known(lambda: self.http.get(self.url(class_id, "enrolments")))
        return class_id

    def url(self, class_id: str, path: str) -> str:
        return f"{self.enrolment}/classes/{class_id}/{path}"

    async def enrol(self, class_id: str, i: int, org: str = "xa-a", **extra) -> httpx.Response:
        return await self.http.post(self.url(class_id, "enrolments"), json=learner(i, org, **extra))

    async def roster(self, class_id: str) -> list[dict]:
        r = await self.http.get(self.url(class_id, "enrolments"))
        assert r.status_code == 200, r.text
        return r.json()

    async def waiting(self, class_id: str) -> list[dict]:
        r = await self.http.get(self.url(class_id, "waiting-list"))
        assert r.status_code == 200, r.text
        return r.json()

    async def quota(self, class_id: str, org: str, quota: int | None) -> httpx.Response:
        return await self.http.put(self.url(class_id, f"quotas/{org}"), json={"quota": quota})

    async def withdraw(self, class_id: str, learner_id: str, reason: str = "Xin rút vì công tác") -> httpx.Response:
        return await self.http.post(self.url(class_id, f"enrolments/{learner_id}/withdraw"), json={"reason": reason})


def learner(i: int, org: str = "xa-a", **extra) -> dict:
    return {"full_name": f"Nguyễn Thị Học Viên {i}", "date_of_birth": "1992-03-04",
            "sending_organisation": {"code": org, "name": ORGS[org]}, **extra}


@pytest.fixture
async def centre(services, http, organisations) -> Centre:
    await organisations(ORGS)
    return Centre(services, http)


def by_org(rows: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["organisation_code"]] = counts.get(row["organisation_code"], 0) + 1
    return counts


async def test_concurrent_enrolments_and_withdrawals_respect_capacity_quotas_and_the_waiting_list_order(centre):
    class_id = await centre.open_class(capacity=30)
    assert (await centre.quota(class_id, "xa-a", 5)).status_code == 200
    assert (await centre.quota(class_id, "xa-b", 10)).status_code == 200
    # 50 at once: 20 of xa-a (quota 5), 15 of xa-b (quota 10), 15 of xa-c (no quota): exactly 30 can be seated
    applicants = [(i, "xa-a") for i in range(20)] + [(20 + i, "xa-b") for i in range(15)] + \
                 [(35 + i, "xa-c") for i in range(15)]
    responses = await asyncio.gather(*(centre.enrol(class_id, i, org) for i, org in applicants))
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 30 and codes.count(202) == 20, codes
    roster, waiting = await centre.roster(class_id), await centre.waiting(class_id)
    assert sorted(e["seat_number"] for e in roster) == list(range(1, 31))
    assert by_org(roster) == {"xa-a": 5, "xa-b": 10, "xa-c": 15}
    assert [w["position"] for w in waiting] == list(range(1, 21)) and by_org(waiting) == {"xa-a": 15, "xa-b": 5}
    quotas = {q["organisation_code"]: q for q in (await centre.http.get(centre.url(class_id, "quotas"))).json()}
    assert quotas["xa-a"] == {"organisation_code": "xa-a", "quota": 5, "seated": 5, "waiting": 15}
    assert quotas["xa-c"]["quota"] is None and quotas["xa-c"]["seated"] == 15

    # 8 withdrawals at once (3 of xa-b, 5 of xa-c): only xa-b's first 3 waiting learners are eligible; every
    # xa-a learner, though ahead of them, is skipped because xa-a is at its quota
    leaving = [e["learner_id"] for e in roster if e["organisation_code"] == "xa-b"][:3] + \
              [e["learner_id"] for e in roster if e["organisation_code"] == "xa-c"][:5]
    results = await asyncio.gather(*(centre.withdraw(class_id, lid) for lid in leaving))
    assert [r.status_code for r in results] == [200] * 8, [r.text for r in results]
    promoted = [p["learner_id"] for r in results for p in r.json()["promoted"]]
    first_b = [w["learner_id"] for w in waiting if w["organisation_code"] == "xa-b"][:3]
    assert sorted(promoted) == sorted(first_b)
    roster_after, waiting_after = await centre.roster(class_id), await centre.waiting(class_id)
    assert len(roster_after) == 25 and by_org(roster_after) == {"xa-a": 5, "xa-b": 10, "xa-c": 10}
    assert {e["learner_id"] for e in roster_after if e["from_waiting_list"]} == set(first_b)
    assert [w["learner_id"] for w in waiting_after] == [w["learner_id"] for w in waiting
                                                       if w["learner_id"] not in first_b]
    assert [w["position"] for w in waiting_after] == list(range(1, 18))
    assert len({e["seat_number"] for e in roster_after}) == 25

    # raising xa-a's quota to 8 promotes its first 3 waiting learners, in waiting-list order
    r = await centre.quota(class_id, "xa-a", 8)
    assert r.status_code == 200
    first_a = [w["learner_id"] for w in waiting_after if w["organisation_code"] == "xa-a"][:3]
    assert [p["learner_id"] for p in r.json()["promoted"]] == first_a
    assert by_org(await centre.roster(class_id)) == {"xa-a": 8, "xa-b": 10, "xa-c": 10}


async def test_a_full_class_waits_a_withdrawal_promotes_and_refusals_name_the_reason(centre):
    class_id = await centre.open_class(capacity=2)
    first, second = [(await centre.enrol(class_id, i)).json() for i in (1, 2)]
    third = await centre.enrol(class_id, 3)
    assert third.status_code == 202 and third.json()["status"] == "waitlisted" and third.json()["position"] == 1
    again = await centre.enrol(class_id, 3)
    assert again.status_code == 409 and again.json()["type"].endswith("already-waiting")
    assert again.json()["position"] == 1 and "danh sách chờ" in again.json()["detail_vi"]
    seated = await centre.enrol(class_id, 1)
    assert seated.status_code == 409 and seated.json()["type"].endswith("already-enrolled")

    r = await centre.withdraw(class_id, first["learner_id"], "Ốm dài ngày")
    assert r.status_code == 200
    assert r.json()["promoted"] == [{"learner_id": third.json()["learner_id"], "full_name": "Nguyễn Thị Học Viên 3",
                                     "organisation_code": "xa-a", "seat_number": first["seat_number"]}]
    roster = await centre.roster(class_id)
    assert {e["learner_id"] for e in roster} == {second["learner_id"], third.json()["learner_id"]}
    assert await centre.waiting(class_id) == []
    r = await centre.withdraw(class_id, first["learner_id"])
    assert r.status_code == 404 and r.json()["type"].endswith("learner-not-in-class")
    r = await centre.http.post(centre.url(str(uuid.uuid4()), "enrolments"), json=learner(9))
    assert r.status_code == 409 and r.json()["type"].endswith("class-unknown")
    r = await centre.quota(class_id, "xa-a", -1)
    assert r.status_code == 422
    # the same person re-enrols after withdrawing: one learner across classes and years, same id
    back = await centre.enrol(class_id, 1)
    assert back.status_code == 202 and back.json()["learner_id"] == first["learner_id"]


async def test_a_transfer_arrives_in_the_target_then_leaves_the_source_and_waits_in_a_full_target(centre):
    source = await centre.open_class(capacity=2)
    roomy, full = await centre.open_class(capacity=5), await centre.open_class(capacity=1)
    a, b = [(await centre.enrol(source, i)).json()["learner_id"] for i in (1, 2)]
    waiting = (await centre.enrol(source, 3)).json()["learner_id"]
    await centre.enrol(full, 4)

    move = lambda lid, target: centre.http.post(centre.url(source, f"enrolments/{lid}/transfer"),  # noqa: E731
                                                 json={"target_class_id": target})
    r = await move(a, roomy)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "enrolled" and r.json()["seat_number"] == 1
    assert [p["learner_id"] for p in r.json()["promoted"]] == [waiting]  # the source's waiting list moves up
    assert [e["learner_id"] for e in await centre.roster(roomy)] == [a]
    assert a not in {e["learner_id"] for e in await centre.roster(source)}

    again = await move(a, roomy)  # a repeated request completes nothing twice
    assert again.status_code == 200 and again.json()["status"] == "enrolled" and again.json()["promoted"] == []
    assert len(await centre.roster(roomy)) == 1

    r = await move(b, full)
    assert r.status_code == 200 and r.json()["status"] == "waitlisted" and r.json()["position"] == 1
    assert [w["learner_id"] for w in await centre.waiting(full)] == [b]
    assert b not in {e["learner_id"] for e in await centre.roster(source)}

    r = await move(str(uuid.uuid4()), roomy)
    assert r.status_code == 404 and r.json()["type"].endswith("learner-not-in-class")
    r = await centre.http.post(centre.url(roomy, f"enrolments/{a}/transfer"), json={"target_class_id": roomy})
    assert r.status_code == 422 and r.json()["type"].endswith("same-class")


async def test_a_cancelled_class_refuses_further_enrolments_but_lets_its_learners_transfer_out(centre):
    class_id, other = await centre.open_class(capacity=5), await centre.open_class(capacity=5)
    enrolled = await centre.enrol(class_id, 1)
    assert enrolled.status_code == 201
    r = await centre.http.post(f"{centre.scheduling}/classes/{class_id}/cancel",
                               json={"reason": "Trùng lịch Đại hội Đảng bộ huyện"})
    assert r.status_code == 200, r.text
    for _ in range(200):
        r = await centre.enrol(class_id, 2)
        if r.status_code != 201 and r.status_code != 202:
            break
        await centre.withdraw(class_id, r.json()["learner_id"])  # enrolment had not heard yet: undo, retry
        await asyncio.sleep(0.05)
    assert r.status_code == 409 and r.json()["type"].endswith("class-cancelled"), r.text
    assert "hủy" in r.json()["detail_vi"]
    assert (await centre.quota(class_id, "xa-a", 3)).status_code == 409
    moved = await centre.http.post(centre.url(class_id, f"enrolments/{enrolled.json()['learner_id']}/transfer"),
                                   json={"target_class_id": other})
    assert moved.status_code == 200 and moved.json()["status"] == "enrolled"


def csv_file(rows: list[list[str]]) -> bytes:
    header = "Họ và tên,Ngày sinh,Số CCCD\n"
    return ("\ufeff" + header + "".join(",".join(r) + "\n" for r in rows)).encode()


async def test_a_csv_list_is_preflighted_fixed_imported_and_reimported_harmlessly(centre):
    class_id = await centre.open_class(capacity=3)
    await centre.quota(class_id, "xa-a", 2)
    already = await centre.enrol(class_id, 0, "xa-a", national_id="038192000000")
    assert already.status_code == 201
    imp = centre.url(class_id, "enrolments/import")
    form = {"organisation_code": "xa-a", "organisation_name": ORGS["xa-a"]}
    bad = csv_file([["Lê Thị Bình", "12/04/1988", ""], ["", "01/01/1990", ""], ["Trần Văn An", "31/02/1990", ""],
                    ["lê thị bình", "12/04/1988", ""], ["Nguyễn Thị Học Viên 0", "04/03/1992", "038192000000"],
                    ["Phạm Văn Cường", "1985-07-09", ""]])
    r = await centre.http.post(imp, params={"preflight": "true"}, data=form, files={"file": ("ds.csv", bad, "text/csv")})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["preflight"] is True
    status = {row["row"]: row for row in report["results"]}
    assert status[2]["status"] == "would-enrol"
    assert status[3]["status"] == "error" and status[3]["problems"][0]["code"] == "missing-field"
    assert status[4]["status"] == "error" and status[4]["problems"][0]["code"] == "malformed-date"
    assert status[5]["status"] == "error" and status[5]["problems"][0]["code"] == "duplicate-row"
    assert status[6]["status"] == "already-enrolled" and status[6]["learner_id"] == already.json()["learner_id"]
    assert status[7]["status"] == "would-wait" and status[7]["reason"] == "over-quota"  # xa-a's quota is 2
    assert [e["learner_id"] for e in await centre.roster(class_id)] == [already.json()["learner_id"]]
    assert await centre.waiting(class_id) == []  # a preflight changes nothing

    fixed = csv_file([["Lê Thị Bình", "12/04/1988", ""], ["Hoàng Văn Dũng", "01/01/1990", ""],
                      ["Nguyễn Thị Học Viên 0", "04/03/1992", "038192000000"], ["Phạm Văn Cường", "1985-07-09", ""]])
    r = await centre.http.post(imp, data=form, files={"file": ("ds.csv", fixed, "text/csv")})
    assert r.status_code == 200, r.text
    assert [row["status"] for row in r.json()["results"]] == ["enrolled", "waitlisted", "already-enrolled",
                                                            "waitlisted"]
    assert r.json()["counts"] == {"enrolled": 1, "waitlisted": 2, "already-enrolled": 1}
    r = await centre.http.post(imp, data=form, files={"file": ("ds.csv", fixed, "text/csv")})
    assert [row["status"] for row in r.json()["results"]] == ["already-enrolled", "already-waiting",
                                                            "already-enrolled", "already-waiting"]
    assert len(await centre.roster(class_id)) == 2 and len(await centre.waiting(class_id)) == 2


async def test_an_xlsx_list_and_a_json_batch_import_with_their_own_organisations(centre):
    from openpyxl import Workbook

    class_id = await centre.open_class(capacity=10)
    book = Workbook()
    sheet = book.active
    sheet.append(["STT", "Họ và tên", "Ngày sinh", "Mã đơn vị", "Tên đơn vị"])
    sheet.append([1, "Đỗ Thị Lan", "02/09/1995", "xa-b", ORGS["xa-b"]])
    sheet.append([2, "Vũ Văn Nam", None, "xa-b", ORGS["xa-b"]])
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx = ("ds.xlsx", buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    r = await centre.http.post(centre.url(class_id, "enrolments/import"), files={"file": xlsx})
    assert r.status_code == 200, r.text
    rows = r.json()["results"]
    assert rows[0]["status"] == "enrolled" and rows[1]["status"] == "error"
    assert rows[1]["problems"][0] == {"field": "date_of_birth", "code": "missing-field",
                                      "detail": "date of birth is missing", "detail_vi": "Thiếu ngày sinh"}
    assert (await centre.roster(class_id))[0]["organisation_code"] == "xa-b"

    batch = {"sending_organisation": {"code": "xa-c", "name": ORGS["xa-c"]},
             "rows": [{"full_name": "Bùi Văn Sơn", "date_of_birth": "1980-01-01"},
                      {"full_name": "Ngô Thị Yến", "date_of_birth": "1981-02-02", "party_card_number": "38012345"}]}
    url = centre.url(class_id, "enrolments/batch")
    r = await centre.http.post(url, params={"preflight": "true"}, json=batch)
    assert [row["status"] for row in r.json()["results"]] == ["would-enrol", "would-enrol"]
    r = await centre.http.post(url, json=batch)
    assert [row["status"] for row in r.json()["results"]] == ["enrolled", "enrolled"]
    assert by_org(await centre.roster(class_id)) == {"xa-b": 1, "xa-c": 2}
    r = await centre.http.post(url, files={"file": ("x.pdf", b"%PDF-1.4", "application/pdf")})
    assert r.status_code == 422


async def test_a_two_thousand_row_list_imports_in_one_request(centre):
    class_id = await centre.open_class(capacity=1500, title="Lớp triển khai Nghị quyết Đại hội XIV")
    rows = [[f"Học Viên Số {i}", f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1960 + i % 40}", f"0381{i:08d}"]
            for i in range(2000)]
    data = csv_file(rows)
    form = {"organisation_code": "xa-a", "organisation_name": ORGS["xa-a"]}
    started = time.monotonic()
    r = await centre.http.post(centre.url(class_id, "enrolments/import"), data=form,
                               files={"file": ("ds.csv", data, "text/csv")}, timeout=120)
    took = time.monotonic() - started
    assert r.status_code == 200, r.text
    assert r.json()["counts"] == {"enrolled": 1500, "waitlisted": 500}
    assert took < 30, took
    assert len(await centre.roster(class_id)) == 1500
    waiting = await centre.waiting(class_id)
    assert [w["position"] for w in waiting] == list(range(1, 501))
    r = await centre.http.post(centre.url(class_id, "enrolments/import"), data=form,
                               files={"file": ("ds.csv", data, "text/csv")}, timeout=120)
    assert r.json()["counts"] == {"already-enrolled": 1500, "already-waiting": 500}


async def test_more_lists_at_once_than_the_service_decides_together_wait_their_turn_and_all_are_stored(centre):
    # enrolment decides LISTS_AT_ONCE (4) lists at a time; ten sent together must all come back stored
    classes = [await centre.open_class(capacity=20) for _ in range(3)]
    lists = [(classes[k % 3], {"sending_organisation": {"code": "xa-a", "name": ORGS["xa-a"]},
                               "rows": [{"full_name": f"Học Viên Lượt {k} Số {i}", "date_of_birth": "1985-03-04",
                                         "national_id": f"0382{k:04d}{i:04d}"} for i in range(5)]})
             for k in range(10)]
    answers = await asyncio.gather(*[centre.http.post(centre.url(class_id, "enrolments/batch"), json=batch, timeout=120)
                                     for class_id, batch in lists])
    assert [r.status_code for r in answers] == [200] * 10, [r.text for r in answers if r.status_code != 200]
    assert all(r.json()["counts"] == {"enrolled": 5} for r in answers)
    assert sorted([len(await centre.roster(class_id)) for class_id in classes]) == [15, 15, 20]


async def test_another_centre_s_class_looks_absent_and_a_lecturer_may_not_enrol(services, issuer, centre):
    class_id = await centre.open_class(capacity=3)
    outsider = issuer.headers("centre-staff", centre="nga-son")
    lecturer = issuer.headers("lecturer", centre="hau-loc")
    for method, path, body in (("GET", "enrolments", None), ("GET", "waiting-list", None), ("GET", "quotas", None),
                               ("POST", "enrolments", learner(1)), ("PUT", "quotas/xa-a", {"quota": 1}),
                               ("POST", "enrolments/batch", {"rows": []})):
        r = await centre.http.request(method, centre.url(class_id, path), json=body, headers=outsider)
        assert r.status_code == 404, (method, path, r.status_code)
    r = await centre.http.post(centre.url(class_id, "enrolments"), json=learner(1), headers=lecturer)
    assert r.status_code == 403
    r = await centre.http.get(centre.url(class_id, "enrolments"), headers=lecturer)
    assert r.status_code == 200
