"""When the map changes: sending organisations merged, renamed, moved and dissolved through the public API of the
running services. Part of a year is played: three commune party committees send learners to a first class (their
result reports reach each of them) and to a second; mid-year they merge into a new commune's party committee. Every
learner's history survives, the predecessors' codes are refused naming the successor, what was still on its way to
a predecessor reaches the successor, the next result report reaches the successor exactly once (the receiver counts
webhook-ids), the successor reads its predecessors' learners, and a rebuild gives the same projections."""
from __future__ import annotations

import asyncio
import inspect
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from tests.e2e.test_assessment_flow import problem
from ttct_dev.demo import _until_known
from ttct_dev.directory import HEAD, register_organisations

pytestmark = pytest.mark.e2e
REPORT = "class.result_report"
DIRECTORY = "/v1/sending-organisations"
MAPS = ("recorded", "today")


def today():
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


async def _eventually(check, what: str, attempts: int = 900):
    """`check()`'s answer (awaited if it is a coroutine) once it is truthy; up to a minute and a half, as the
    whole suite on two cores can hold a consumer back that long."""
    for _ in range(attempts):
        found = check()
        found = await found if inspect.isawaitable(found) else found
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"not reached in time: {what}")


class Year:
    """One fresh centre and its organisations, each service called with the token its users have."""

    def __init__(self, services, issuer, client: httpx.AsyncClient) -> None:
        self.urls, self.issuer, self.client = services.urls, issuer, client
        self.centre = f"c-{uuid.uuid4().hex[:8]}"
        self.staff = issuer.headers("centre-staff", centre=self.centre)
        self.admin = issuer.headers("province-admin")

    def org(self, code: str) -> dict:
        return self.issuer.headers("organisation", org=code)

    async def webhook(self, receiver, code: str) -> None:
        r = await self.client.post(f"{self.urls['notification']}/v1/organisations/{code}/webhook-endpoints",
                                   json={"url": receiver.url(code)}, headers=self.org(code))
        assert r.status_code == 201, r.text
        receiver.secrets[code] = r.json()["secret"]

    async def open_class(self, title: str, starts_on: str, ends_on: str) -> str:
        r = await self.client.post(f"{self.urls['scheduling']}/v1/centres/{self.centre}/classes", headers=self.staff,
                                   json={"programme_type": "so_cap_llct", "title": title, "capacity": 30,
                                         "starts_on": starts_on, "ends_on": ends_on, "venue": "Hội trường"})
        assert r.status_code == 201, r.text
        return r.json()["class_id"]

    async def enrol(self, class_id: str, name: str, org: str) -> httpx.Response:
        url = f"{self.urls['enrolment']}/v1/centres/{self.centre}/classes/{class_id}/enrolments"
        return await _until_known(lambda: self.client.post(url, headers=self.staff, json={
            "full_name": name, "date_of_birth": "1986-05-17", "sending_organisation": {"code": org}}))

    async def finalise(self, class_id: str, learners: list[str]) -> None:
        assessment = f"{self.urls['assessment']}/v1/centres/{self.centre}/classes/{class_id}"
        for i, learner in enumerate(learners):
            r = await _until_known(lambda: self.client.post(f"{assessment}/scores", headers=self.staff,
                                                            json={"learner_id": learner, "score": 7.0 + i % 3}))
            assert r.status_code == 201, r.text
        r = await self.client.post(f"{assessment}/finalisation", headers=self.staff)
        assert r.status_code == 201, r.text

    async def read(self, org: str, path: str, **params) -> list | dict:
        r = await self.client.get(f"{self.urls['notification']}/v1/organisations/{org}{path}", headers=self.org(org),
                                  params=params)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
async def year(services, issuer):
    async with httpx.AsyncClient(timeout=30) as client:
        yield Year(services, issuer, client)


def reports_of(receiver, org: str, class_id: str) -> list:
    return [x for x in receiver.unique(org, REPORT) if x.payload["data"]["class_id"] == class_id]


async def test_three_communes_merge_mid_year_and_the_successor_carries_on_their_history(year, receiver, services):
    tag = uuid.uuid4().hex[:5]
    a, b, c, new = (f"xa-{n}-{tag}" for n in ("hoa-loc", "hoa-phu", "loc-son", "hau-loc"))
    names = {a: "Đảng ủy xã Hòa Lộc", b: "Đảng ủy xã Hòa Phú", c: "Đảng ủy xã Lộc Sơn"}
    await register_organisations(year.client, year.urls["enrolment"], names, centre=year.centre, headers=year.staff)
    for code in (a, b, c, new):  # the new commune's office set up its endpoint ahead of the merge
        await year.webhook(receiver, code)

    # early in the year: the first class, one learner from each commune, results reported to each
    first = await year.open_class("Lớp Sơ cấp LLCT khóa 1", "2026-03-02", "2026-03-20")
    people = {}
    for code, person in ((a, "Nguyễn Văn An"), (b, "Trần Thị Bình"), (c, "Lê Văn Cường")):
        r = await year.enrol(first, person, code)
        assert r.status_code == 201, r.text
        people[person] = r.json()["learner_id"]
    await year.finalise(first, list(people.values()))
    for code in (a, b, c):
        await _eventually(lambda code=code: reports_of(receiver, code, first), f"{code}'s first report")

    # Lộc Sơn reads its notices in a daily digest: what it is sent next waits, undelivered, when the merge comes
    r = await year.client.put(f"{year.urls['notification']}/v1/organisations/{c}/channel-settings",
                              json={"webhook": "digest", "email": "immediate"}, headers=year.org(c))
    assert r.status_code == 200, r.text
    second = await year.open_class("Lớp Sơ cấp LLCT khóa 2", "2027-08-02", "2027-08-20")
    for code, person in ((a, "Phạm Văn Dũng"), (b, "Hoàng Thị Em"), (c, "Vũ Văn Giang")):
        r = await year.enrol(second, person, code)
        assert r.status_code == 201, r.text
        people[person] = r.json()["learner_id"]

    merge = {"predecessor_codes": [a, b, c], "successor_code": new, "effective_on": str(today()),
             "decision": {"number": "1686/QĐ-UBND", "signed_on": str(today() - timedelta(days=30))},
             "successor": {"name": "Đảng ủy xã Hậu Lộc", "kind": "party-committee", "centre": year.centre,
                           "contacts": [HEAD]}}
    merges = f"{year.urls['enrolment']}{DIRECTORY}/merges"
    # the preview says what moves where and changes nothing; only the province's admins may merge
    r = await year.client.post(f"{merges}/preview", json=merge, headers=year.admin)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["successor"] is None  # a new organisation
    assert [(p["code"], p["learners"], p["open_enrolments"]) for p in preview["predecessors"]] == [
        (a, 2, 1), (b, 2, 1), (c, 2, 1)]
    assert all(p["contacts"] == [{**HEAD, "email": None}] for p in preview["predecessors"])
    async def held():  # Lộc Sơn's enrolment notice, held for its digest, once notification has made it
        notices = await year.read(c, "/notices", limit=200)
        giang = [n for n in notices if n["notice_type"] == "enrolment.confirmed"
                 and n["payload"]["data"]["learner_id"] == people["Vũ Văn Giang"]]
        if not (giang and [d["status"] for d in giang[0]["deliveries"]] == ["held"]):
            return False
        r = await year.client.get(f"{year.urls['notification']}/v1/organisation-successions/preview",
                                  params={"successor": new, "predecessor": [a, b, c]}, headers=year.admin)
        assert r.status_code == 200, r.text
        # other notices of Lộc Sơn's (its first class's results) may still be on their way, or held if
        # notification made them after the digest was chosen: each is counted, none is lost
        return r.json()["predecessors"][2]["pending_notices"] >= 1 and r.json()
    mail = await _eventually(held, "Lộc Sơn's notice held")
    assert [len(p["endpoints"]) for p in mail["predecessors"]] == [1, 1, 1]
    assert (await year.client.get(f"{year.urls['enrolment']}{DIRECTORY}/{new}", headers=year.staff)).status_code == 404
    problem(await year.client.post(merges, json=merge, headers=year.staff), 403, "forbidden")
    problem(await year.client.post(merges, json={**merge, "successor": None}, headers=year.admin), 422,
            "successor-details-required")

    # mid-year: the merge, in force from today
    r = await year.client.post(merges, json=merge, headers=year.admin)
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "Đảng ủy xã Hậu Lộc"
    problem(await year.client.post(merges, json=merge, headers=year.admin), 409, "organisation-succeeded")  # again
    found = (await year.client.get(f"{year.urls['enrolment']}{DIRECTORY}/{a}", headers=year.staff)).json()
    assert (found["successor_code"], found["succession"], found["succeeded_on"]) == (new, "merged", str(today()))

    # a predecessor's code is refused naming the successor; the successor sends learners
    refused = problem(await year.enrol(second, "Đỗ Văn Hùng", a), 422, "organisation-succeeded")
    assert new in refused["detail"] and "Đảng ủy xã Hậu Lộc" in refused["detail_vi"]
    assert refused["successor_code"] == new
    quotas = f"{year.urls['enrolment']}/v1/centres/{year.centre}/classes/{second}/quotas"
    problem(await year.client.put(f"{quotas}/{a}", json={"quota": 5}, headers=year.staff), 422,
            "organisation-succeeded")
    r = await year.client.put(f"{quotas}/{new}", json={"quota": 5}, headers=year.staff)
    assert r.status_code == 200, r.text
    r = await year.enrol(second, "Đỗ Văn Hùng", new)
    assert r.status_code == 201, r.text
    assert (r.json()["organisation_code"], r.json()["organisation_name"]) == (new, "Đảng ủy xã Hậu Lộc")
    people["Đỗ Văn Hùng"] = r.json()["learner_id"]

    # Lộc Sơn's held notice was re-addressed, not lost: the successor receives it
    async def readdressed():
        return [x for x in receiver.unique(new, "enrolment.confirmed")
                if x.payload["data"]["learner_id"] == people["Vũ Văn Giang"]]
    await _eventually(readdressed, "Lộc Sơn's held notice reaches the successor")
    # notification has applied the merge: a predecessor registers no endpoint
    r = await year.client.post(f"{year.urls['notification']}/v1/organisations/{b}/webhook-endpoints",
                               json={"url": receiver.url(b)}, headers=year.org(b))
    problem(r, 422, "organisation-succeeded")
    endpoints = await year.read(c, "/webhook-endpoints")
    assert [e["enabled"] for e in endpoints] == [False]
    assert endpoints[0]["disabled_reason"].startswith("organisation-succeeded")

    # the second class's results: one report, to the successor, with every learner its predecessors sent
    second_learners = [people[p] for p in ("Phạm Văn Dũng", "Hoàng Thị Em", "Vũ Văn Giang", "Đỗ Văn Hùng")]
    await year.finalise(second, second_learners)
    [report] = await _eventually(lambda: reports_of(receiver, new, second), "the successor's report")
    assert {x["learner_id"] for x in report.payload["data"]["learners"]} == set(second_learners)
    await asyncio.sleep(2)  # time for a second report or a duplicate delivery to show up, if there were one
    assert len(reports_of(receiver, new, second)) == 1
    assert len([x for x in receiver.received[new] if x.payload["type"] == REPORT]) == 1  # delivered once
    assert all(reports_of(receiver, code, second) == [] for code in (a, b, c))

    # the successor reads its predecessors' learners, records and reports
    rows = await year.read(new, "/learners")
    assert {(x["class_id"], x["learner_id"]) for x in rows} == (
        {(first, people[p]) for p in ("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường")}
        | {(second, x) for x in second_learners})
    record = await year.read(new, f"/learners/{people['Nguyễn Văn An']}/record")
    assert [x["class_id"] for x in record["classes"]] == [first]
    assert {x["class_id"] for x in await year.read(new, "/result-reports")} == {first, second}

    # history is kept as recorded: the first class's roster still names the communes of the time
    r = await year.client.get(f"{year.urls['enrolment']}/v1/centres/{year.centre}/classes/{first}/enrolments",
                              headers=year.staff)
    assert {(x["organisation_code"], x["organisation_name"]) for x in r.json()} == set(names.items())
    assert {x["learner_id"] for x in await year.read(a, "/learners")} == {people["Nguyễn Văn An"],
                                                                         people["Phạm Văn Dũng"]}

    # the year's figures: by the map as recorded, a line per commune; by today's, one line adding them up
    figures = f"{year.urls['assessment']}/v1/centres/{year.centre}/figures"
    for when, count in (("2026", 1), ("2027", 1)):
        recorded = (await year.client.get(figures, params={"year": when}, headers=year.staff)).json()
        rolled = (await year.client.get(figures, params={"year": when, "map": "today"}, headers=year.staff)).json()
        assert {(x["organisation_code"], x["places"]) for x in recorded["by_organisation"]} >= {
            (a, count), (b, count), (c, count)}
        assert (rolled["map"], rolled["total"]) == ("today", recorded["total"])
        [line] = rolled["by_organisation"]
        assert (line["organisation_code"], line["organisation_name"]) == (new, "Đảng ủy xã Hậu Lộc")
        assert line["places"] == sum(x["places"] for x in recorded["by_organisation"])
        assert line["results"]["finalised"] == recorded["total"]["results"]["finalised"]

    # the figures computed again from the streams (the operator's command, as assessment's own NATS user) read the
    # same by either map
    read = lambda when, map_: year.client.get(figures, params={"year": when, "map": map_},  # noqa: E731
                                              headers=year.staff)
    before = {(when, map_): (await read(when, map_)).json() for when in ("2026", "2027") for map_ in MAPS}
    done = services.command("assessment", "assessment.figures", "rebuild")
    assert done.returncode == 0 and "figures rebuilt from" in done.stdout, done.stderr
    assert {key: (await read(*key)).json() for key in before} == before

    # a rebuild of notification's projections gives the same reads and sends nothing again
    before = {path: await year.read(new, path) for path in ("/learners", "/result-reports")}
    sent = {org: list(got) for org, got in receiver.received.items()}
    done = services.admin("notification", "rebuild")
    assert done.returncode == 0, done.stderr

    async def rebuilt():
        now = {path: await year.read(new, path) for path in before}
        return all(_same(now[p], before[p]) for p in before)
    await _eventually(rebuilt, "the rebuilt projections read as before", attempts=600)
    await asyncio.sleep(1)
    after = {org: list(got) for org, got in receiver.received.items()}
    assert after == sent, [(o, [(x.webhook_id, x.payload["type"]) for x in got[len(sent.get(o, [])):]])
                           for o, got in after.items()]


def _same(now: list[dict], before: list[dict]) -> bool:
    key = lambda x: sorted(x.items())  # noqa: E731
    return sorted(map(str, map(key, now))) == sorted(map(str, map(key, before)))


async def test_a_rename_a_move_and_a_dissolution_each_hold_from_their_day(year, receiver):
    tag = uuid.uuid4().hex[:5]
    commune, other, cell = f"xa-{tag}", f"xa-khac-{tag}", f"chi-bo-{tag}"
    await register_organisations(year.client, year.urls["enrolment"], {commune: "Đảng ủy xã Hoa Lộc",
                                                                       other: "Đảng ủy xã Đa Lộc"},
                                 centre=year.centre, headers=year.staff)
    directory = f"{year.urls['enrolment']}{DIRECTORY}"
    r = await year.client.post(directory, headers=year.staff, json={
        "code": cell, "name": "Chi bộ thôn 1", "kind": "party-cell", "parent_code": commune, "centre": year.centre,
        "contacts": [HEAD]})
    assert r.status_code == 201, r.text
    await year.webhook(receiver, cell)
    decision = {"number": "25/QĐ-UBND", "signed_on": str(today())}
    klass = await year.open_class("Lớp bồi dưỡng đảng viên mới", "2027-09-06", "2027-09-10")

    # a rename dated ahead: enrolments use the old name until that day; one in force: the new name
    r = await year.client.post(f"{directory}/{commune}/rename", headers=year.admin, json={
        "name": "Đảng ủy xã Hoa Lộc (mới)", "effective_on": str(today() + timedelta(days=30)), "decision": decision})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["previous_name"]) == ("Đảng ủy xã Hoa Lộc (mới)", "Đảng ủy xã Hoa Lộc")
    r = await year.enrol(klass, "Bùi Văn Khánh", commune)
    assert r.status_code == 201 and r.json()["organisation_name"] == "Đảng ủy xã Hoa Lộc", r.text
    problem(await year.client.post(f"{directory}/{commune}/rename", headers=year.staff, json={
        "name": "X", "effective_on": str(today()), "decision": decision}), 403, "forbidden")
    r = await year.client.post(f"{directory}/{other}/rename", headers=year.admin, json={
        "name": "Đảng ủy xã Đa Lộc Mới", "effective_on": str(today()), "decision": decision})
    assert r.status_code == 200, r.text
    r = await year.enrol(klass, "Cao Thị Lan", other)
    assert r.status_code == 201 and r.json()["organisation_name"] == "Đảng ủy xã Đa Lộc Mới", r.text

    # the cell moves under the other commune; then it is dissolved, its parent taking over
    r = await year.client.post(f"{directory}/{cell}/move", headers=year.admin, json={
        "parent_code": other, "effective_on": str(today()), "decision": decision})
    assert r.status_code == 200 and r.json()["parent_code"] == other, r.text
    problem(await year.client.post(f"{directory}/{cell}/move", headers=year.admin, json={
        "parent_code": f"xa-none-{tag}", "effective_on": str(today()), "decision": decision}), 422, "parent-unknown")
    r = await year.client.post(f"{directory}/{cell}/dissolution/preview", headers=year.admin,
                               json={"effective_on": str(today()), "decision": decision})
    assert r.status_code == 200 and r.json()["successor_code"] == other, r.text
    r = await year.client.post(f"{directory}/{cell}/dissolution", headers=year.admin,
                               json={"effective_on": str(today()), "decision": decision})
    assert r.status_code == 200, r.text
    refused = problem(await year.enrol(klass, "Đinh Văn Minh", cell), 422, "organisation-succeeded")
    assert refused["successor_code"] == other
    problem(await year.client.post(f"{directory}/{cell}/dissolution", headers=year.admin,
                                   json={"effective_on": str(today()), "decision": decision}),
            409, "organisation-succeeded")

    async def disabled():
        found = await year.read(cell, "/webhook-endpoints")
        return found and not found[0]["enabled"]
    await _eventually(disabled, "the dissolved cell's endpoint is disabled")
