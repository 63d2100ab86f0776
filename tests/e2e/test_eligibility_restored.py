"""Eligibility given back, through the public APIs of the running services: a learner who lost eligibility to
sit the final test is back within the threshold when an absence is corrected, or when scheduling cancels a
session they missed; each time assessment says so (EligibilityRestored) and the sending organisation and the
head of its party committee are told, as they were told of the loss."""
import asyncio

import httpx
import pytest

from tests.e2e.test_assessment_flow import Centre

pytestmark = pytest.mark.e2e
ORG = "xa-hoa-loc"


@pytest.fixture
async def centre(services, issuer):
    async with httpx.AsyncClient(timeout=30) as client:
        yield Centre(services, issuer, client)


async def _standing(centre: Centre, class_id: str) -> dict:
    [standing] = (await centre.call("GET", f"/classes/{class_id}/attendance")).json()
    return {k: standing[k] for k in ("eligible", "eligibility_lost_notified", "absences", "sessions_counted")}


async def _notices(services, issuer, learner_id: str, count: int) -> list[tuple[str, str]]:
    """(type, recipient) of the organisation's eligibility notices about the learner, once `count` are there."""
    headers = issuer.headers("organisation", org=ORG)
    url = f"{services.urls['notification']}/v1/organisations/{ORG}/notices"
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        for _ in range(300):
            rows = (await client.get(url, params={"learner_id": learner_id})).json()
            found = [(n["notice_type"], n["recipient"]) for n in rows if n["notice_type"].startswith("attendance.elig")]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.1)
    raise AssertionError(found)


async def test_a_corrected_absence_and_a_cancelled_session_give_eligibility_back_and_the_organisation_is_told(
        centre, services, issuer):
    class_id, sessions = await centre.schedule_class(5, programme="tra-lai")  # 20% of 5: one absence may be made up
    # a name no other test enrols: one person (name, birth date, organisation) is one learner across the session's
    # tests, and the notices below are read by learner
    cuong = await centre.enrol(class_id, "Phạm Văn Cường Trả Lại")
    for session in sessions[:2]:
        assert (await centre.attendance(class_id, session, {cuong: "absent"})).status_code == 200
    assert await _standing(centre, class_id) == {"eligible": False, "eligibility_lost_notified": True,
                                                 "absences": 2, "sessions_counted": 5}

    # the second absence was a mistake: he was there
    assert (await centre.attendance(class_id, sessions[1], {cuong: "present"})).status_code == 200
    assert await _standing(centre, class_id) == {"eligible": True, "eligibility_lost_notified": False,
                                                 "absences": 1, "sessions_counted": 5}

    # absent again, then scheduling cancels the first session he missed (the programme still plans 5)
    assert (await centre.attendance(class_id, sessions[2], {cuong: "absent"})).status_code == 200
    assert (await _standing(centre, class_id))["eligibility_lost_notified"] is True
    scheduling = f"{centre.urls['scheduling']}/v1/centres/{centre.code}/classes/{class_id}"
    r = await centre.client.post(f"{scheduling}/sessions/{sessions[0]}/cancel", headers=centre.scheduling)
    assert r.status_code == 200, r.text
    for _ in range(300):  # assessment hears of the cancellation from scheduling's stream
        if (await _standing(centre, class_id))["eligible"]:
            break
        await asyncio.sleep(0.1)
    assert await _standing(centre, class_id) == {"eligible": True, "eligibility_lost_notified": False,
                                                 "absences": 1, "sessions_counted": 5}

    notices = await _notices(services, issuer, cuong, 8)
    assert notices == [(kind, recipient) for kind in ("attendance.eligibility_lost", "attendance.eligibility_restored")
                       * 2 for recipient in ("organisation", "head")]
