"""Erasure of a learner's personal data (issue 7): a learner with a distinctive name, national ID and party card
number goes through enrolment, scores, finalisation (notices sent, a certificate issued) and is then erased. After
that the API shows them as erased in every service, the class figures are unchanged, a rebuilt projection still
shows them erased, and neither their name (NFC or NFD, any case) nor their ids nor the hashes enrolment kept of
those ids can be found in a dump of any database (the key vault's included), in any JetStream message, or in any
service's log."""
from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import unicodedata
import uuid
from pathlib import Path

import asyncpg
import httpx
import nats
import pytest
from enrolment.domain.roster import external_key
from ttct.privacy.personal import ERASED
from ttct_dev.demo import _until_known
from ttct_dev.directory import register_organisations
from ttct_dev.stack import LocalStack, database_url

pytestmark = pytest.mark.e2e


async def _eventually(check, what: str, attempts: int = 300):
    for _ in range(attempts):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"not reached in time: {what}")


def _needles(name: str, marker: str, national_id: str, card: str) -> dict[str, str]:
    """What must not be found, each with what it is: the name in both Unicode forms and in upper, lower and case-
    folded spelling, the ids, the hashes enrolment keyed them by, and the name's ASCII marker in clear and as the
    hex of its bytes (how pg_dump writes a bytea, e.g. a stored HTTP answer)."""
    found = {}
    for form in ("NFC", "NFD"):
        text = unicodedata.normalize(form, name)
        for spelling in (text, text.upper(), text.lower(), text.casefold()):
            found[spelling] = f"the name ({form})"
    found |= {marker: "the name's marker", marker.encode().hex(): "the name's marker as bytea hex",
              national_id: "the national ID", card: "the party card number", card.lower(): "the party card number",
              external_key("national-id", national_id): "the national ID's hash",
              external_key("party-card", card): "the party card's hash"}
    return found


def _scan(text: str, needles: dict[str, str], where: str) -> list[str]:
    return [f"{what} ({needle!r}) in {where}" for needle, what in needles.items() if needle in text]


async def test_an_erased_learner_is_shown_as_erased_everywhere_and_found_nowhere(services, issuer, receiver, stack):
    centre, org = f"c-{uuid.uuid4().hex[:8]}", f"xa-{uuid.uuid4().hex[:6]}"
    marker = uuid.uuid4().hex[:12]
    name = f"Trịnh Thị Xoá Mờ {marker}"
    national_id = f"0381{uuid.uuid4().int % 10**8:08d}"
    card = f"{uuid.uuid4().int % 10**8:08d}"
    needles = _needles(name, marker, national_id, card)
    urls = services.urls
    staff = issuer.headers("centre-staff", centre=centre)
    sending = {"code": org, "name": "Đảng ủy xã Hoa Lộc"}
    async with httpx.AsyncClient(timeout=30, headers=staff) as http, \
            httpx.AsyncClient(timeout=30, headers=issuer.headers("organisation", org=org)) as org_http, \
            httpx.AsyncClient(timeout=30) as anyone:
        notification = f"{urls['notification']}/v1/organisations/{org}"
        r = await org_http.post(f"{notification}/webhook-endpoints", json={"url": receiver.url(org)})
        assert r.status_code == 201, r.text
        receiver.secrets[org] = r.json()["secret"]
        await register_organisations(http, urls["enrolment"], {org: sending["name"]}, centre=centre)

        # a class, the learner and a classmate, scores, finalisation: notices go out, certificates are issued
        r = await http.post(f"{urls['scheduling']}/v1/centres/{centre}/classes", json={
            "programme_type": "so_cap_llct", "title": "Lớp Sơ cấp LLCT (xoá dữ liệu)", "capacity": 5,
            "starts_on": "2027-04-05", "ends_on": "2027-04-09", "venue": "Hội trường"})
        assert r.status_code == 201, r.text
        class_id = r.json()["class_id"]
        enrolments = f"{urls['enrolment']}/v1/centres/{centre}/classes/{class_id}/enrolments"
        r = await _until_known(lambda: http.post(enrolments, json={
            "full_name": name, "date_of_birth": "1979-08-29", "national_id": national_id, "party_card_number": card,
            "sending_organisation": sending}))
        assert r.status_code == 201, r.text
        learner = r.json()["learner_id"]
        r = await http.post(enrolments, json={"full_name": "Lê Văn Ở Lại", "date_of_birth": "1985-01-02",
                                              "sending_organisation": sending})
        assert r.status_code == 201, r.text
        classmate = r.json()["learner_id"]
        assessment = f"{urls['assessment']}/v1/centres/{centre}"
        for who, score in ((learner, 8.5), (classmate, 6.0)):
            r = await _until_known(lambda: http.post(f"{assessment}/classes/{class_id}/scores",
                                                     json={"learner_id": who, "score": score}))
            assert r.status_code == 201, r.text
        r = await http.post(f"{assessment}/classes/{class_id}/finalisation")
        assert r.status_code == 201, r.text
        before = r.json()
        assert (before["learners"], before["passed"]) == (2, 2)
        [certificate] = [c for c in (await http.get(f"{assessment}/classes/{class_id}/certificates")).json()
                         if c["learner_id"] == learner]
        verify = f"{urls['assessment']}/v1/public/certificates/{certificate['verification_code']}"
        assert (await anyone.get(verify)).json()["full_name"] == name

        async def sent():  # 2 enrolments, 2 results, the class's report
            return len(receiver.unique(org)) >= 5 and receiver.unique(org)
        assert any(h.payload["data"].get("full_name") == name for h in await _eventually(sent, "notices sent"))
        figures = f"{assessment}/figures"
        figures_before = (await http.get(figures, params={"year": 2027})).json()

        # the erasure: by the centre's staff, with a reason; a second request finds it done
        erasure = f"{urls['enrolment']}/v1/centres/{centre}/learners/{learner}/erasure"
        assert (await http.post(erasure, json={"reason": "x", "extra": 1})).status_code == 422
        other_staff = issuer.headers("centre-staff", centre="another-centre")
        r = await anyone.post(erasure.replace(centre, "another-centre"), json={"reason": "x"}, headers=other_staff)
        assert r.status_code == 404
        r = await http.post(erasure, json={"reason": "the learner's written request of 2027-05-02, no. 17/YC"})
        assert r.status_code == 200, r.text
        assert r.json()["learner_id"] == learner and r.json()["key_destroyed"] is True
        again = await http.post(erasure, json={"reason": "asked twice"})
        assert again.status_code == 200 and again.json()["key_destroyed"] is False
        assert again.json()["erased_at"] == r.json()["erased_at"]
        log = (await http.get(f"{urls['enrolment']}/v1/centres/{centre}/personal-data-access/enrolment",
                              params={"learner_id": learner})).json()
        assert any(e["route"].endswith("/erasure") and e["reason"].startswith("the learner's written request")
                   and e["action"] == "change" for e in log)

        # (a) every service shows the learner as erased; nothing else changed
        def erased(rows: list[dict]) -> bool:
            mine = [x for x in rows if x["learner_id"] == learner]
            return bool(mine) and all(x["full_name"] == ERASED for x in mine)

        roster = (await http.get(enrolments)).json()
        assert erased(roster) and [x["date_of_birth"] for x in roster if x["learner_id"] == learner] == [None]
        assert any(x["full_name"] == "Lê Văn Ở Lại" for x in roster)
        r = await http.get(f"{urls['enrolment']}/v1/centres/{centre}/learners/by-external-id/national-id/{national_id}")
        assert r.status_code == 404  # the identifier no longer leads to them
        for path in (f"/classes/{class_id}/scores", f"/classes/{class_id}/certificates"):
            async def shown(path=path):
                return erased((await http.get(f"{assessment}{path}")).json())
            await _eventually(shown, f"assessment {path} shows the learner erased")

        async def results_erased():
            return erased((await http.get(f"{assessment}/classes/{class_id}/results")).json()["results"])
        await _eventually(results_erased, "the final results show the learner erased")
        after = (await http.get(f"{assessment}/classes/{class_id}/results")).json()
        assert (after["learners"], after["passed"]) == (before["learners"], before["passed"])
        def outcomes(results):  # by learner: the list is in name order, and the erased name sorts elsewhere
            return sorted((x["learner_id"], x["final_score"], x["passed"], x["certificate_number"]) for x in results)
        assert outcomes(after["results"]) == outcomes(before["results"])
        assert (await http.get(figures, params={"year": 2027})).json() == figures_before
        verified = (await anyone.get(verify)).json()
        assert verified["genuine"] is True and verified["full_name"] == ERASED  # valid, holder's data erased

        async def organisation_sees_erased():
            return erased((await org_http.get(f"{notification}/learners")).json())
        await _eventually(organisation_sees_erased, "the organisation's learner list shows the learner erased")
        feed = [item["data"] for item in (await org_http.get(f"{notification}/feed")).json()["data"]]
        about = [d for d in feed if d.get("learner_id") == learner]
        assert about and all(d["full_name"] == ERASED for d in about)
        [report] = [d for d in feed if "learners" in d]
        assert [x["full_name"] for x in report["learners"] if x["learner_id"] == learner] == [ERASED]
        assert report["summary"] == {"learners": 2, "passed": 2}

    # (e) notification's projections rebuilt from the streams: the learner is still erased
    done = services.admin("notification", "rebuild")
    assert done.returncode == 0, done.stderr
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("organisation", org=org)) as org_http:
        async def rebuilt():
            rows = (await org_http.get(f"{notification}/learners")).json()
            return {x["learner_id"] for x in rows} == {learner, classmate} and rows
        rows = await _eventually(rebuilt, "notification's projection is rebuilt", attempts=1200)
        assert erased(rows) and [x["date_of_birth"] for x in rows if x["learner_id"] == learner] == [None]

    problems: list[str] = []
    # (b) a dump of every database of the server, the key vault's included
    pg_dump = LocalStack(Path(tempfile.gettempdir()))._bin / "pg_dump"
    conn = await asyncpg.connect(stack.postgres_url)
    try:
        names = [r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database WHERE NOT datistemplate")]
    finally:
        await conn.close()
    assert services.key_vault.rsplit("/", 1)[1].split("?")[0] in names
    seen_classmate = False
    for db in names:
        dump = subprocess.run([str(pg_dump), "--no-owner", "--dbname", database_url(stack.postgres_url, db)],
                              capture_output=True, text=True, timeout=120)
        assert dump.returncode == 0, dump.stderr
        problems += _scan(dump.stdout, needles, f"database {db}")
        seen_classmate |= "Lê Văn Ở Lại" in dump.stdout
    assert seen_classmate  # the scan reads the rows: the classmate, not erased, is there by name

    # (c) every message of every JetStream stream, read as the admin user
    nc = await nats.connect(stack.nats_url)
    try:
        js = nc.jetstream()
        streams = await js.streams_info()
        assert {"ENROLMENT", "ASSESSMENT"} <= {s.config.name for s in streams}
        about_learner = 0
        for info in streams:
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                try:
                    msg = await js.get_msg(info.config.name, seq)
                except nats.js.errors.NotFoundError:
                    continue
                text = (msg.data or b"").decode("utf-8", "replace") + json.dumps(msg.headers or {})
                problems += _scan(text, needles, f"stream {info.config.name} message {seq}")
                about_learner += learner in text
        assert about_learner >= 5  # the scan reads the learner's own events (enrolled, scored, ..., erased)
    finally:
        await nc.close()

    # (d) every service's log
    logs = list(services.log_dir.glob("*.log"))
    assert len(logs) == 4
    for log_file in logs:
        text = log_file.read_text(encoding="utf-8", errors="replace")
        assert '"service started"' in text  # the scan reads real log lines
        problems += _scan(text, needles, log_file.name)

    assert problems == []
