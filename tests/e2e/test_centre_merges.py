"""When the map changes, communes and centres alike: two centres, each with a class and certificates in the first
half of the year, are registered in the province's register of centres; mid-year three commune party committees
that sent Hậu Lộc's learners merge into one, and Nga Sơn's centre is merged into Hậu Lộc's, which is then renamed
from tomorrow. Through the public API of the running services: every learner's history and certificate survives,
the successor's staff read and act on the predecessor's classes in every service, the predecessor's own token is
refused naming the successor, its certificates verify naming it, the year's figures read by the recorded map as
before (both centres, three communes) and by today's add up (one centre, one commune), and a rebuild of the
services that keep the register gives the same reads."""
from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from tests.e2e.test_assessment_flow import problem
from tests.e2e.test_organisation_merges import _eventually, today
from ttct_dev.demo import _until_known
from ttct_dev.directory import HEAD, register_organisations
from ttct_dev.paper_checks import vietnamese_text

pytestmark = pytest.mark.e2e
REGISTER = "/v1/province-centres"


class Centre:
    """A fresh centre of the province, its staff's token, its class and learners."""

    def __init__(self, urls: dict, issuer, client: httpx.AsyncClient, name: str) -> None:
        self.urls, self.client, self.name = urls, client, name
        self.code = f"c-{uuid.uuid4().hex[:8]}"
        self.staff = issuer.headers("centre-staff", centre=self.code)
        self.org = f"xa-{self.code}"

    def at(self, service: str, centre: str | None = None) -> str:
        return f"{self.urls[service]}/v1/centres/{centre or self.code}"

    async def open_class(self, title: str, starts_on: str, ends_on: str) -> str:
        r = await self.client.post(f"{self.at('scheduling')}/classes", headers=self.staff, json={
            "programme_type": "so_cap_llct", "title": title, "capacity": 30, "starts_on": starts_on,
            "ends_on": ends_on, "venue": "Hội trường"})
        assert r.status_code == 201, r.text
        return r.json()["class_id"]

    async def enrol(self, class_id: str, name: str, org: str | None = None) -> str:
        url = f"{self.at('enrolment')}/classes/{class_id}/enrolments"
        r = await _until_known(lambda: self.client.post(url, headers=self.staff, json={
            "full_name": name, "date_of_birth": "1985-02-11", "sending_organisation": {"code": org or self.org}}))
        assert r.status_code == 201, r.text
        return r.json()["learner_id"]

    async def finalise(self, class_id: str, learners: list[str]) -> None:
        assessment = f"{self.at('assessment')}/classes/{class_id}"
        for learner in learners:
            r = await _until_known(lambda: self.client.post(f"{assessment}/scores", headers=self.staff,
                                                            json={"learner_id": learner, "score": 8.0}))
            assert r.status_code == 201, r.text
        r = await self.client.post(f"{assessment}/finalisation", headers=self.staff)
        assert r.status_code == 201, r.text


async def _reads(client: httpx.AsyncClient, who: dict, nga_son: Centre, class_id: str) -> dict | None:
    """What the successor's staff read of the predecessor's class in each service (None while one refuses)."""
    found = {}
    for service, path in (("scheduling", ""), ("enrolment", "/enrolments"), ("assessment", "/certificates")):
        r = await client.get(f"{nga_son.at(service)}/classes/{class_id}{path}", headers=who)
        if r.status_code != 200:
            return None
        found[service] = r.json()
    return found


async def _figures(client: httpx.AsyncClient, url: str, headers: dict, **params) -> dict:
    r = await client.get(url, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_two_centres_merge_mid_year_and_the_successor_carries_on_their_work(services, issuer):
    async with httpx.AsyncClient(timeout=30) as client:
        admin = issuer.headers("province-admin")
        hau_loc = Centre(services.urls, issuer, client, "Trung tâm Chính trị huyện Hậu Lộc")
        nga_son = Centre(services.urls, issuer, client, "Trung tâm Chính trị huyện Nga Sơn")
        register = f"{services.urls['enrolment']}{REGISTER}"
        for centre in (hau_loc, nga_son):
            r = await client.post(register, headers=admin, json={
                "code": centre.code, "name": centre.name, "address": "tỉnh Thanh Hóa",
                "parent_body": centre.name.replace("Trung tâm Chính trị huyện", "Huyện ủy"),
                "effective_on": "2026-01-01"})
            assert r.status_code == 201, r.text
            await register_organisations(client, services.urls["enrolment"], {centre.org: f"Đảng ủy xã {centre.name}"},
                                         centre=centre.code, headers=centre.staff)
        # Hậu Lộc's learners come from three communes, which merge mid-year
        tag = uuid.uuid4().hex[:5]
        communes = {f"xa-hoa-loc-{tag}": "Đảng ủy xã Hòa Lộc", f"xa-hoa-phu-{tag}": "Đảng ủy xã Hòa Phú",
                    f"xa-loc-son-{tag}": "Đảng ủy xã Lộc Sơn"}
        await register_organisations(client, services.urls["enrolment"], communes, centre=hau_loc.code,
                                     headers=hau_loc.staff)
        problem(await client.post(register, headers=hau_loc.staff, json={
            "code": f"c-{uuid.uuid4().hex[:8]}", "name": "X", "effective_on": "2026-01-01"}), 403, "forbidden")

        # the first half of the year: a class at each centre, finalised, certificates issued
        classes, learners = {}, {}
        for centre, title, (starts, ends), people in (
                (hau_loc, "Lớp Sơ cấp LLCT Hậu Lộc", ("2026-03-02", "2026-03-20"),
                 list(zip(["Nguyễn Văn An", "Lê Thị Bình", "Vũ Văn Giang"], communes))),
                (nga_son, "Lớp Sơ cấp LLCT Nga Sơn", ("2026-04-06", "2026-04-24"),
                 [(p, nga_son.org) for p in ("Trần Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em")])):
            classes[centre.code] = await centre.open_class(title, starts, ends)
            learners[centre.code] = [await centre.enrol(classes[centre.code], p, org) for p, org in people]
            await centre.finalise(classes[centre.code], learners[centre.code])
        certificates = {}
        for centre in (hau_loc, nga_son):
            r = await client.get(f"{centre.at('assessment')}/classes/{classes[centre.code]}/certificates",
                                 headers=centre.staff)
            assert r.status_code == 200, r.text
            certificates[centre.code] = r.json()
            assert [(c["centre"], c["centre_name"]) for c in r.json()] == [(centre.code, centre.name)] * len(
                learners[centre.code])

        # the year's figures before the merge, by the recorded map: a line per centre
        province = f"{services.urls['assessment']}/v1/figures"
        ours = {hau_loc.code, nga_son.code}

        def lines(figures: dict) -> dict:
            return {x["centre"]: (x["classes"], x["places"], x["results"]["finalised"], x["results"]["passed"])
                    for x in figures["by_centre"] if x["centre"] in ours}

        async def figures_known():
            found = lines(await _figures(client, province, admin, year=2026))
            return found if found == {hau_loc.code: (1, 3, 3, 3), nga_son.code: (1, 3, 3, 3)} else None
        before = await _eventually(figures_known, "both centres' figures")

        # mid-year, the communes: Hòa Lộc, Hòa Phú and Lộc Sơn merge into Hậu Lộc commune's party committee
        new_commune = f"xa-hau-loc-{tag}"
        r = await client.post(f"{services.urls['enrolment']}/v1/sending-organisations/merges", headers=admin, json={
            "predecessor_codes": list(communes), "successor_code": new_commune, "effective_on": str(today()),
            "decision": {"number": "1686/QĐ-UBND", "signed_on": str(today() - timedelta(days=30))},
            "successor": {"name": "Đảng ủy xã Hậu Lộc", "kind": "party-committee", "centre": hau_loc.code,
                          "contacts": [HEAD]}})
        assert r.status_code == 201, r.text

        # the centres: the preview says what moves where; only the province's admins may merge
        decision = {"number": "1703/QĐ-UBND", "signed_on": str(today() - timedelta(days=20))}
        merge = {"predecessor_codes": [nga_son.code], "successor_code": hau_loc.code, "kind": "merged",
                 "effective_on": str(today()), "decision": decision}
        r = await client.post(f"{register}/merges/preview", json=merge, headers=admin)
        assert r.status_code == 200, r.text
        assert [(p["code"], p["classes"], p["learners"]) for p in r.json()["predecessors"]] == [
            (nga_son.code, 1, 3)]
        assert (r.json()["successor"]["code"], r.json()["successor"]["classes"]) == (hau_loc.code, 1)
        assert r.json()["successor"]["learners"] == 3
        problem(await client.post(f"{register}/merges", json=merge, headers=hau_loc.staff), 403, "forbidden")
        problem(await client.post(f"{register}/merges", headers=admin, json={
            **merge, "predecessor_codes": [f"c-none-{uuid.uuid4().hex[:4]}"]}), 422, "centre-unknown")

        # mid-year: Nga Sơn merged into Hậu Lộc from today; Hậu Lộc takes a new name from tomorrow
        r = await client.post(f"{register}/merges", json=merge, headers=admin)
        assert r.status_code == 201, r.text
        assert r.json()["predecessor_codes"] == [nga_son.code]
        problem(await client.post(f"{register}/merges", json=merge, headers=admin), 409, "centre-merged")
        new_name = "Trung tâm Chính trị khu vực Hậu Lộc - Nga Sơn"
        r = await client.post(f"{register}/{hau_loc.code}/rename", headers=admin, json={
            "name": new_name, "effective_on": str(today() + timedelta(days=1)), "decision": decision})
        assert r.status_code == 200, r.text
        assert r.json()["name"] == hau_loc.name  # until tomorrow
        assert [n["name"] for n in r.json()["names"]] == [hau_loc.name, new_name]
        r = await client.get(f"{register}/{nga_son.code}", headers=hau_loc.staff)
        assert (r.json()["successor_code"], r.json()["merge_kind"], r.json()["merged_on"]) == (
            hau_loc.code, "merged", str(today()))

        # the successor's staff read the predecessor's class, roster and certificates in every service, once each
        # service has the merge
        first = classes[nga_son.code]
        reads = await _eventually(lambda: _reads(client, hau_loc.staff, nga_son, first),
                                  "Hậu Lộc's staff read Nga Sơn's class everywhere")
        assert reads["scheduling"]["centre"] == nga_son.code  # where it happened
        assert {x["learner_id"] for x in reads["enrolment"]} == set(learners[nga_son.code])
        assert reads["assessment"] == certificates[nga_son.code]
        r = await client.get(f"{nga_son.at('assessment')}/classes/{first}/results", headers=hau_loc.staff)
        assert r.status_code == 200 and len(r.json()["results"]) == 3, r.text
        # a Nga Sơn learner's record, read by Hậu Lộc's staff, names the centre the class was held at
        r = await client.get(f"{services.urls['assessment']}/v1/learners/{learners[nga_son.code][0]}/record",
                             headers=hau_loc.staff)
        assert r.status_code == 200, r.text
        assert [(x["centre"], x["centre_name"]) for x in r.json()["classes"]] == [(nga_son.code, nga_son.name)]
        # ... and act on it: they close Nga Sơn's class, which is over
        for step, status in (("start", "in_progress"), ("complete", "completed")):
            r = await client.post(f"{nga_son.at('scheduling')}/classes/{first}/{step}", headers=hau_loc.staff)
            assert r.status_code == 200 and r.json()["status"] == status, r.text
        reads = await _reads(client, hau_loc.staff, nga_son, first)
        # a centre merged away opens no new class: the successor opens next year's under its own code
        next_year = {"programme_type": "so_cap_llct", "title": "Lớp bồi dưỡng tại Nga Sơn", "capacity": 30,
                     "starts_on": "2027-01-11", "ends_on": "2027-01-15", "venue": "Hội trường Nga Sơn"}
        refused = problem(await client.post(f"{nga_son.at('scheduling')}/classes", headers=hau_loc.staff,
                                            json=next_year), 422, "centre-merged")
        assert refused["successor_code"] == hau_loc.code
        r = await client.post(f"{hau_loc.at('scheduling')}/classes", headers=hau_loc.staff, json=next_year)
        assert r.status_code == 201 and r.json()["centre"] == hau_loc.code, r.text
        # the successor's list of classes takes in its predecessors' when asked, each where it was held
        r = await client.get(f"{hau_loc.at('scheduling')}/classes", headers=hau_loc.staff,
                             params={"with_predecessors": "true"})
        assert r.status_code == 200, r.text
        assert [(x["centre"], x["starts_on"]) for x in r.json()] == [
            (hau_loc.code, "2026-03-02"), (nga_son.code, "2026-04-06"), (hau_loc.code, "2027-01-11")]
        r = await client.get(f"{hau_loc.at('scheduling')}/classes", headers=hau_loc.staff)
        assert [x["centre"] for x in r.json()] == [hau_loc.code, hau_loc.code]

        # Nga Sơn's own token is refused, naming the successor, in every service
        async def refused():
            answers = [await client.get(f"{nga_son.at(service)}/classes/{first}{path}", headers=nga_son.staff)
                       for service, path in (("scheduling", ""), ("enrolment", "/enrolments"),
                                             ("assessment", "/certificates"))]
            return all(r.status_code == 403 for r in answers) and answers
        for answer in await _eventually(refused, "Nga Sơn's token refused everywhere"):
            body = problem(answer, 403, "centre-merged")
            assert body["successor_code"] == hau_loc.code and hau_loc.name in body["detail_vi"]

        # certificates issued before keep where they happened: Nga Sơn's verifies naming Nga Sơn
        public = f"{services.urls['assessment']}/v1/public/certificates"
        verified = (await client.get(f"{public}/{certificates[nga_son.code][0]['verification_code']}")).json()
        assert (verified["genuine"], verified["centre"], verified["centre_name"]) == (True, nga_son.code, nga_son.name)
        verified = (await client.get(f"{public}/{certificates[hau_loc.code][0]['verification_code']}")).json()
        assert (verified["centre"], verified["centre_name"]) == (hau_loc.code, hau_loc.name)  # its name that day
        # the commune that sent Nga Sơn's learners reads its result report naming the centre as registered
        report = f"{services.urls['notification']}/v1/organisations/{nga_son.org}/result-reports/{first}"
        async def reported():
            r = await client.get(report, headers=issuer.headers("organisation", org=nga_son.org))
            return r.status_code == 200 and r.json()
        assert (await _eventually(reported, "Nga Sơn's result report"))["centre_name"] == nga_son.name
        # printed again by the successor's staff, Nga Sơn's certificates still name Nga Sơn as the issuer
        r = await client.get(f"{nga_son.at('assessment')}/classes/{first}/certificate-papers", headers=hau_loc.staff)
        assert r.status_code == 200, r.text
        assert nga_son.name.upper() in vietnamese_text(r.content).upper()

        # every learner's history survives: Hậu Lộc's learners still under the communes that sent them then
        r = await client.get(f"{services.urls['assessment']}/v1/learners/{learners[hau_loc.code][0]}/record",
                             headers=hau_loc.staff)
        assert [(x["centre_name"], x["organisation_name"], x["passed"], x["certificate_number"] is not None)
                for x in r.json()["classes"]] == [(hau_loc.name, "Đảng ủy xã Hòa Lộc", True, True)]

        # the year's figures: by the recorded map as before, both centres and three communes; by today's, one line
        # for each adding them up
        async def read_figures() -> dict:
            return {
                "recorded": await _figures(client, province, admin, year=2026),
                "today": await _figures(client, province, admin, year=2026, map="today"),
                "successor": await _figures(client, f"{hau_loc.at('assessment')}/figures", hau_loc.staff, year=2026,
                                            map="today"),
                "predecessor": await _figures(client, f"{nga_son.at('assessment')}/figures", hau_loc.staff,
                                              year=2026)}
        found = await read_figures()
        assert lines(found["recorded"]) == before
        assert lines(found["today"]) == {hau_loc.code: (2, 6, 6, 6)}
        assert found["today"]["total"] == found["recorded"]["total"]
        assert (found["successor"]["total"]["places"], found["successor"]["total"]["classes"]) == (6, 2)

        def by_commune(figures: dict) -> dict:
            return {x["organisation_code"]: x["places"] for x in figures["by_organisation"]
                    if x["organisation_code"] in {*communes, new_commune, nga_son.org}}
        assert by_commune(found["recorded"]) == {**dict.fromkeys(communes, 1), nga_son.org: 3}
        assert by_commune(found["today"]) == {new_commune: 3, nga_son.org: 3}
        assert by_commune(found["successor"]) == {new_commune: 3, nga_son.org: 3}
        assert found["predecessor"]["total"]["places"] == 3

        # a rebuild of every service that keeps the register gives the same reads
        for service in ("scheduling", "assessment", "notification"):
            done = services.admin(service, "rebuild")
            assert done.returncode == 0, done.stderr
        assert await _reads(client, hau_loc.staff, nga_son, first) == reads
        problem(await client.get(f"{nga_son.at('scheduling')}/classes/{first}", headers=nga_son.staff), 403,
                "centre-merged")
        assert await read_figures() == found

