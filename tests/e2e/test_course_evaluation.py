"""Course evaluation through the running services: the centre enters its learners' anonymous survey forms of a
class (one per learner at most, rating only lecturers who taught it) and its lessons-learned review, and reads
them per class, per lecturer and per programme type, for the centre and for the province."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.e2e.test_assessment_flow import Centre, problem, until_known

pytestmark = pytest.mark.e2e


@pytest.fixture
async def centre(services, issuer):
    async with httpx.AsyncClient(timeout=30) as client:
        yield Centre(services, issuer, client)


async def assessment_knows(centre, class_id: str, learners: set[str]) -> None:
    """One form per learner is counted against the learners assessment has heard of: wait until it has heard of
    every one enrolled (enrolment publishes them; under a full suite that can take a while)."""
    for _ in range(600):
        r = await centre.call("GET", f"/classes/{class_id}/attendance")
        if r.status_code == 200 and {s["learner_id"] for s in r.json()} >= learners:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"assessment never listed {learners} in class {class_id}")


async def test_forms_add_up_per_class_lecturer_and_programme_and_stay_anonymous(centre, services, issuer):
    class_id, sessions = await centre.schedule_class(2)
    learners = {await centre.enrol(class_id, name) for name in ("Lê Thị Bình", "Trần Văn An")}
    await assessment_knows(centre, class_id, learners)
    s = f"{services.urls['scheduling']}/v1/centres/{centre.code}/classes/{class_id}/sessions"
    lecturer = (await centre.client.get(s, headers=centre.scheduling)).json()[0]
    r = await centre.client.post(f"{services.urls['scheduling']}/v1/lecturers", headers=centre.scheduling,
                                 json={"full_name": "Hoàng Văn Khách", "kind": "collaborator"})
    stranger = r.json()["lecturer_id"]
    url = f"/classes/{class_id}/evaluations"

    first = await centre.call("POST", url, {"content": 5, "organisation": 4, "comment": "Nội dung thiết thực.\nCần thêm"
                                            " tài liệu.", "lecturers": [{"lecturer_id": lecturer["lecturer_id"],
                                                                         "rating": 5}]})
    assert first.status_code == 201, first.text
    second = await centre.call("POST", url, {"content": 4, "lecturers": [{"lecturer_id": lecturer["lecturer_id"],
                                                                          "rating": 4}]})
    assert second.status_code == 201, second.text
    problem(await centre.call("POST", url, {"content": 3}), 409, "evaluation-forms-exceed-learners")
    problem(await centre.call("POST", url, {}), 422, "evaluation-empty")
    problem(await centre.call("POST", url, {"lecturers": [{"lecturer_id": stranger, "rating": 5}]}), 422,
            "lecturer-not-in-class")
    problem(await centre.call("POST", url, {"content": 6}), 422, "invalid-input")

    r = await centre.call("PUT", f"/classes/{class_id}/review", {
        "strengths": "Học viên chuyên cần", "lessons": "Bố trí thêm buổi thảo luận nhóm"})
    assert r.status_code == 200 and r.json()["lessons"] == "Bố trí thêm buổi thảo luận nhóm", r.text

    summary = (await centre.call("GET", f"/classes/{class_id}/evaluation")).json()
    assert (summary["forms"], float(summary["content"]), summary["organisation_answers"],
            float(summary["organisation"])) == (2, 4.5, 1, 4.0)
    assert [(x["full_name"], x["answers"], float(x["average"])) for x in summary["lecturers"]] == [
        (lecturer["lecturer_name"], 2, 4.5)]
    assert summary["comments"] == ["Nội dung thiết thực.\nCần thêm tài liệu."]
    assert summary["review"]["strengths"] == "Học viên chuyên cần"

    figures = (await centre.call("GET", "/evaluation-figures", None, retry=False)).json()
    assert figures["year"] and [c["class_id"] for c in figures["classes"]] == []  # the class starts next year
    figures = (await centre.client.get(f"{centre.base}/evaluation-figures", params={"year": 2027},
                                       headers=centre.assessment)).json()
    [line] = figures["classes"]
    assert (line["class_id"], line["forms"], float(line["content"]), float(line["lecturers"]), line["reviewed"]) == (
        class_id, 2, 4.5, 4.5, True)
    assert [(x["lecturer_id"], x["classes"], float(x["average"])) for x in figures["lecturers"]] == [
        (lecturer["lecturer_id"], 1, 4.5)]
    assert [(p["programme_type"], p["classes"], p["forms"]) for p in figures["programmes"]] == [("so_cap_llct", 1, 2)]

    province = await centre.client.get(f"{services.urls['assessment']}/v1/evaluation-figures", params={"year": 2027},
                                       headers=issuer.headers("province-admin"))
    assert province.status_code == 200 and class_id in {c["class_id"] for c in province.json()["classes"]}
    refused = await centre.client.get(f"{services.urls['assessment']}/v1/evaluation-figures",
                                      headers=centre.assessment)
    assert refused.status_code == 403


async def test_a_lecturer_may_not_enter_forms_and_another_centre_sees_nothing(centre, services, issuer):
    class_id, _ = await centre.schedule_class(1)
    await centre.enrol(class_id, "Lê Thị Bình")
    url = f"{centre.base}/classes/{class_id}/evaluations"
    as_lecturer = issuer.headers("lecturer", centre=centre.code)
    r = await until_known(lambda: centre.client.post(url, json={"content": 5}, headers=as_lecturer))
    assert r.status_code == 403, r.text
    r = await centre.client.get(f"{services.urls['assessment']}/v1/centres/khac/classes/{class_id}/evaluation",
                                headers=issuer.headers("centre-staff", centre="khac"))
    assert r.status_code == 404 and r.json()["type"] == "urn:ttct:problem:class-unknown", r.text


async def test_learners_fill_in_their_own_forms_with_one_time_codes_without_signing_in(centre, services):
    class_id, sessions = await centre.schedule_class(2)
    learners = {await centre.enrol(class_id, name)
                for name in ("Lê Thị Bình Mã Phiếu", "Trần Văn An Mã Phiếu", "Phạm Thị Cúc Mã Phiếu")}
    public = f"{services.urls['assessment']}/v1/public/evaluation-forms"
    await assessment_knows(centre, class_id, learners)  # assessment hears of the seats from enrolment's stream
    # one form entered by the centre from paper: two places left, so two codes (a third would make a fourth form)
    assert (await centre.call("POST", f"/classes/{class_id}/evaluations", {"content": 3})).status_code == 201
    r = await centre.call("POST", f"/classes/{class_id}/evaluation-codes", {})
    assert r.status_code == 201, r.text
    codes = r.json()["codes"]
    assert len(codes) == 2 and len(set(codes)) == 2 and all(len(c) == 11 and c[5] == "-" for c in codes), codes
    problem(await centre.call("POST", f"/classes/{class_id}/evaluation-codes", {"count": 1}), 409,
            "evaluation-codes-exceed-learners")

    # the learner opens the form with their code, as printed or typed in lower case without the dash; no token
    async with httpx.AsyncClient(timeout=30) as anyone:
        form = await anyone.get(f"{public}/{codes[0].lower().replace('-', '')}")
        assert form.status_code == 200, form.text
        [lecturer] = form.json()["lecturers"]
        assert form.json()["class_title"] == "Lớp Sơ cấp LLCT khóa 3" and set(form.json()) == {
            "class_title", "centre", "lecturers"}  # nothing about any learner
        sent = await anyone.post(f"{public}/{codes[0]}", json={
            "content": 5, "organisation": 5, "comment": "Rất bổ ích",
            "lecturers": [{"lecturer_id": lecturer["lecturer_id"], "rating": 4}]})
        assert sent.status_code == 201 and sent.json()["class_id"] == class_id, sent.text
        # a code is used once, and an unknown code is refused, each with a reason in Vietnamese
        again = await anyone.post(f"{public}/{codes[0]}", json={"content": 1})
        assert again.status_code == 409 and "đã được dùng" in again.json()["detail_vi"], again.text
        unknown = await anyone.get(f"{public}/ABCDE-FGHJK")
        assert unknown.status_code == 404 and "không đúng" in unknown.json()["detail_vi"], unknown.text
        assert (await anyone.post(f"{public}/{codes[1]}", json={})).status_code == 422  # empty: the code stays
        # the same slip sent twice at once (a double tap): one form
        both = await asyncio.gather(*(anyone.post(f"{public}/{codes[1]}", json={"content": 4}) for _ in range(2)))
        assert sorted(r.status_code for r in both) == [201, 409], [r.text for r in both]

    summary = (await centre.call("GET", f"/classes/{class_id}/evaluation")).json()
    assert (summary["forms"], float(summary["content"]), summary["comments"]) == (3, 4.0, ["Rất bổ ích"])

    # every learner has a form now: no more codes, even replacing the unused ones
    problem(await centre.call("POST", f"/classes/{class_id}/evaluation-codes", {"replace_unused": True}), 409,
            "evaluation-codes-exceed-learners")
