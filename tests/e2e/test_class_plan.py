"""A class's plan of sessions changed by the centre's decision, through the public APIs of the running services:
scheduling a course a week at a time keeps the programme's plan, but staff may plan a class shorter or longer
(never below the sessions already scheduled); attendance is then weighed over the new plan, and a learner's
eligibility follows it both ways, the sending organisation being told each time."""
import asyncio

import httpx
import pytest

from tests.e2e.test_assessment_flow import Centre
from tests.e2e.test_eligibility_restored import _notices, _standing

pytestmark = pytest.mark.e2e


@pytest.fixture
async def centre(services, issuer):
    async with httpx.AsyncClient(timeout=30) as client:
        yield Centre(services, issuer, client)


async def _standing_once(centre: Centre, class_id: str, **expected) -> dict:
    """The learner's standing once assessment has heard of the change (it hears it from scheduling's stream)."""
    for _ in range(300):
        standing = await _standing(centre, class_id)
        if all(standing[k] == v for k, v in expected.items()):
            return standing
        await asyncio.sleep(0.1)
    raise AssertionError(standing)


async def test_staff_plan_a_class_shorter_then_longer_and_eligibility_follows_the_plan(centre, services, issuer):
    class_id, sessions = await centre.schedule_class(3, programme="ke-hoach", planned=30)  # a week scheduled
    scheduling = f"{centre.urls['scheduling']}/v1/centres/{centre.code}/classes/{class_id}"
    dung = await centre.enrol(class_id, "Lê Thị Dung Kế Hoạch")
    assert (await centre.attendance(class_id, sessions[0], {dung: "absent"})).status_code == 200
    # one absence over the 30 sessions planned: still eligible, though only 3 are scheduled so far
    assert await _standing(centre, class_id) == {"eligible": True, "eligibility_lost_notified": False,
                                                 "absences": 1, "sessions_counted": 30}

    # the plan cannot go below what is scheduled: refused, with the reason in Vietnamese, and nothing changes
    r = await centre.client.put(f"{scheduling}/plan", headers=centre.scheduling,
                                json={"planned_sessions": 2, "reason": "Rút ngắn"})
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["type"].endswith(":plan-below-scheduled") and "3 buổi" in problem["detail_vi"], problem
    assert (await centre.client.get(scheduling, headers=centre.scheduling)).json()["planned_sessions"] == 30

    # the centre shortens the class to 4 sessions: one absence in 4 is more than the programme allows
    etag = (await centre.client.get(scheduling, headers=centre.scheduling)).headers["ETag"]
    r = await centre.client.put(f"{scheduling}/plan", headers={**centre.scheduling, "If-Match": etag},
                                json={"planned_sessions": 4, "reason": "Rút ngắn theo Quyết định số 45-QĐ/TTCT"})
    assert r.status_code == 200, r.text
    assert r.json()["planned_sessions"] == 4 and r.headers["ETag"] != etag
    assert await _standing_once(centre, class_id, eligible=False) == {
        "eligible": False, "eligibility_lost_notified": True, "absences": 1, "sessions_counted": 4}

    # a stale If-Match is refused: the client had not seen the change
    r = await centre.client.put(f"{scheduling}/plan", headers={**centre.scheduling, "If-Match": etag},
                                json={"planned_sessions": 10, "reason": "Kéo dài"})
    assert r.status_code == 412, r.text

    # scheduling a fourth session keeps the staff's plan (4), not the programme's 30
    [first, *_] = (await centre.client.get(f"{scheduling}/sessions", headers=centre.scheduling)).json()
    r = await centre.client.post(f"{scheduling}/sessions", headers=centre.scheduling, json={
        "session_date": "2027-03-09", "starts_at": "07:30", "ends_at": "11:00", "topic": "Chuyên đề 4",
        "lecturer_id": first["lecturer_id"], "field_trip_site": "Khu di tích Hàm Rồng"})
    assert r.status_code == 201, r.text
    assert (await centre.client.get(scheduling, headers=centre.scheduling)).json()["planned_sessions"] == 4

    # lengthened again to 10: back within the threshold, and the organisation is told both times
    r = await centre.client.put(f"{scheduling}/plan", headers=centre.scheduling,
                                json={"planned_sessions": 10, "reason": "Kéo dài theo Quyết định số 50-QĐ/TTCT"})
    assert r.status_code == 200, r.text
    assert await _standing_once(centre, class_id, eligible=True) == {
        "eligible": True, "eligibility_lost_notified": False, "absences": 1, "sessions_counted": 10}
    notices = await _notices(services, issuer, dung, 4)
    assert notices == [(kind, recipient) for kind in ("attendance.eligibility_lost", "attendance.eligibility_restored")
                       for recipient in ("organisation", "head")]
