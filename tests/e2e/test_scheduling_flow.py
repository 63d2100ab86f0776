"""Scheduling through its HTTP API on the real services: the programme catalogue, the class lifecycle, the
province's lecturers, venues, sessions and field trips, and clashes refused province-wide, also under
concurrent requests."""
import asyncio
import uuid

import httpx
import pytest
from ttct.http.auth import ROLE_PERMISSIONS, Role

pytestmark = pytest.mark.e2e
NEW_PERMISSIONS = {f"{r}:{m}" for r in ("classes", "sessions", "lecturers", "programmes") for m in ("read", "write")}
STAFF_HAS_THEM = NEW_PERMISSIONS <= ROLE_PERMISSIONS[Role.centre_staff]
CLASS = {"programme_type": "dang_vien_moi", "title": "Lớp bồi dưỡng đảng viên mới đợt 1", "capacity": 50,
         "starts_on": "2027-03-01", "ends_on": "2027-03-10", "venue": "Hội trường Trung tâm"}


def centre_code() -> str:
    return f"c-{uuid.uuid4().hex[:8]}"


def staff_headers(issuer, *centres: str) -> dict:
    # Centre staff are the real users of all of this; until ROLE_PERMISSIONS grants them the new permissions
    # (the lead's change, see the scheduling report), a province admin stands in for them.
    if STAFF_HAS_THEM:
        return issuer.headers("centre-staff", centre=list(centres))
    return issuer.headers("province-admin")


class Centre:
    def __init__(self, services, client: httpx.AsyncClient, code: str) -> None:
        self.client, self.code = client, code
        self.root = services.urls["scheduling"]
        self.base = f"{self.root}/v1/centres/{code}"

    async def post(self, path: str, body: dict | None = None) -> httpx.Response:
        return await self.client.post(f"{self.base}{path}", json=body)

    async def new_class(self, expect: int = 201, **fields) -> dict:
        r = await self.post("/classes", {**CLASS, **fields})
        assert r.status_code == expect, r.text
        return r.json()

    async def venue(self, name: str = "Hội trường A") -> str:
        r = await self.post("/venues", {"name": name, "seats": 120})
        assert r.status_code == 201, r.text
        return r.json()["venue_id"]

    async def lecturer(self, name: str = "Lê Văn Giảng", kind: str = "collaborator") -> str:
        r = await self.client.post(f"{self.root}/v1/lecturers", json={"full_name": name, "kind": kind})
        assert r.status_code == 201, r.text
        return r.json()["lecturer_id"]

    async def session(self, class_id: str, lecturer_id: str, venue_id: str | None = None, *, day="2027-03-02",
                      start="07:30", end="11:00", topic="Lịch sử Đảng bộ huyện", **extra) -> httpx.Response:
        body = {"session_date": day, "starts_at": start, "ends_at": end, "topic": topic, "lecturer_id": lecturer_id,
                **({"venue_id": venue_id} if venue_id else {}), **extra}
        return await self.post(f"/classes/{class_id}/sessions", body)


@pytest.fixture
async def centre(services, issuer):
    code = centre_code()
    async with httpx.AsyncClient(timeout=30, headers=staff_headers(issuer, code)) as client:
        yield Centre(services, client, code)


@pytest.fixture
async def two_centres(services, issuer):
    a, b = centre_code(), centre_code()
    async with httpx.AsyncClient(timeout=60, headers=staff_headers(issuer, a, b)) as client:
        yield Centre(services, client, a), Centre(services, client, b)


def problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["type"] == f"urn:ttct:problem:{code}", body
    assert r.headers["content-type"].startswith("application/problem+json")
    assert body["detail"] and body["detail_vi"]
    return body


async def test_the_catalogue_is_seeded_on_first_use_and_a_class_opens_with_its_programme_s_defaults(centre):
    listed = (await centre.client.get(f"{centre.base}/programmes")).json()
    assert len(listed) == 9 and len({p["programme_type"] for p in listed}) == 9
    assert all(p["max_absence_ratio"] in ("0.2", 0.2) and p["assessment_scheme"] == "default@1" for p in listed)

    changed = {"programme_type": "dang_vien_moi", "name": "Bồi dưỡng đảng viên mới (2027)", "planned_sessions": 12,
               "max_absence_ratio": "0.15", "excused_absences_count": True, "assessment_scheme": "dvm@2"}
    r = await centre.client.put(f"{centre.base}/programmes/dang-vien-moi", json=changed)
    assert r.status_code == 200, r.text
    opened = await centre.new_class()
    assert (opened["status"], opened["programme_code"], opened["planned_sessions"], float(opened["max_absence_ratio"]),
            opened["excused_absences_count"], opened["assessment_scheme"]) == ("open", "dang-vien-moi", 12, 0.15,
                                                                                True, "dvm@2")

    r = await centre.client.put(f"{centre.base}/programmes/cb-nguon-2030",
                                json={**changed, "programme_type": "can_bo_nguon", "name": "Cán bộ nguồn 2025-2030"})
    assert r.status_code == 200
    sourced = await centre.new_class(programme_type="can_bo_nguon", programme_code="cb-nguon-2030")
    assert sourced["programme_code"] == "cb-nguon-2030"

    problem(await centre.client.put(f"{centre.base}/programmes/dang-vien-moi",
                                    json={**changed, "programme_type": "ky_nang"}), 409, "programme-type-fixed")
    problem(await centre.post("/classes", {**CLASS, "programme_code": "khong-co"}), 422, "programme-unknown")
    problem(await centre.post("/classes", {**CLASS, "programme_code": "cb-nguon-2030"}), 422,
            "programme-type-mismatch")


async def test_a_class_goes_planned_open_in_progress_completed_and_refuses_steps_out_of_order(centre):
    planned = await centre.new_class(status="planned")
    class_id = planned["class_id"]
    assert planned["status"] == "planned" and planned["opened_at"] is None
    assert planned["programme_code"] == "dang-vien-moi"
    problem(await centre.post(f"/classes/{class_id}/start"), 409, "class-not-open")

    opened = (await centre.post(f"/classes/{class_id}/open")).json()
    assert opened["status"] == "open" and opened["planned_sessions"] == 10 and opened["opened_at"]
    problem(await centre.post(f"/classes/{class_id}/open"), 409, "class-not-planned")
    problem(await centre.post(f"/classes/{class_id}/complete"), 409, "class-not-in-progress")

    assert (await centre.post(f"/classes/{class_id}/start")).json()["status"] == "in_progress"
    done = await centre.post(f"/classes/{class_id}/complete")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    refused = problem(await centre.post(f"/classes/{class_id}/cancel", {"reason": "Hủy"}), 409, "class-closed")
    assert "completed" in refused["detail"] and "đã kết thúc" in refused["detail_vi"]

    listed = (await centre.client.get(f"{centre.base}/classes", params={"status": "completed"})).json()
    assert [c["class_id"] for c in listed] == [class_id]
    problem(await centre.post(f"/classes/{uuid.uuid4()}/start"), 404, "class-unknown")


async def test_a_cancelled_class_is_refused_every_further_change_and_frees_its_lecturers(centre):
    lecturer, venue = await centre.lecturer(), await centre.venue()
    class_id = (await centre.new_class())["class_id"]
    session = await centre.session(class_id, lecturer, venue)
    assert session.status_code == 201, session.text

    cancelled = await centre.post(f"/classes/{class_id}/cancel", {"reason": "Trùng lịch Đại hội Đảng bộ"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "Trùng lịch Đại hội Đảng bộ"
    for path, body in ((f"/classes/{class_id}/open", None), (f"/classes/{class_id}/start", None),
                       (f"/classes/{class_id}/complete", None), (f"/classes/{class_id}/cancel", {"reason": "lần 2"}),
                       (f"/classes/{class_id}/sessions/{session.json()['session_id']}/cancel", None)):
        refused = problem(await centre.post(path, body), 409, "class-not-planned" if path.endswith("/open")
                          else "class-not-open" if path.endswith("/start")
                          else "class-not-in-progress" if path.endswith("/complete") else "class-closed")
        assert "cancelled" in refused["detail"] and "Trùng lịch Đại hội Đảng bộ" in refused["detail_vi"]
    refused = problem(await centre.session(class_id, lecturer, venue, day="2027-03-03"), 409, "class-closed")

    sessions = (await centre.client.get(f"{centre.base}/classes/{class_id}/sessions")).json()
    assert [s["status"] for s in sessions] == ["cancelled"]
    other = (await centre.new_class(title="Lớp thay thế"))["class_id"]
    assert (await centre.session(other, lecturer, venue)).status_code == 201  # the slot was released


async def test_the_province_s_lecturers_are_registered_once_and_read_by_every_centre(services, issuer, centre):
    root = f"{services.urls['scheduling']}/v1/lecturers"
    kinds = {"in_house": "Nguyễn Thị Hạnh", "part_time": "Trần Văn Kiêm", "collaborator": "Phạm Minh Cộng",
             "party_leader": "Lê Đình Bí"}
    ids = {}
    for kind, name in kinds.items():
        body = {"full_name": name, "kind": kind, **({"home_centre": centre.code} if kind in ("in_house", "part_time")
                                                   else {}), **({"position": "Bí thư Huyện ủy"}
                                                               if kind == "party_leader" else {})}
        r = await centre.client.post(root, json=body)
        assert r.status_code == 201, r.text
        ids[kind] = r.json()["lecturer_id"]
    problem(await centre.client.post(root, json={"full_name": "Vô Danh", "kind": "in_house"}), 422, "invalid-input")

    elsewhere = issuer.headers("lecturer", centre="nga-son")
    async with httpx.AsyncClient(timeout=30, headers=elsewhere) as lecturer_client:
        if STAFF_HAS_THEM:  # lecturers read the register once ROLE_PERMISSIONS grants them lecturers:read
            listed = (await lecturer_client.get(root, params={"kind": "party_leader"})).json()
            assert ids["party_leader"] in [x["lecturer_id"] for x in listed]
        r = await lecturer_client.post(root, json={"full_name": "X", "kind": "collaborator"})
        assert r.status_code == 403
    one = (await centre.client.get(f"{root}/{ids['part_time']}")).json()
    assert (one["full_name"], one["kind"], one["home_centre"]) == ("Trần Văn Kiêm", "part_time", centre.code)
    problem(await centre.client.get(f"{root}/{uuid.uuid4()}"), 404, "lecturer-unknown")
    async with httpx.AsyncClient(timeout=30, headers=issuer.headers("organisation", org="xa-hoa-loc")) as org:
        assert (await org.get(root)).status_code == 403
        assert (await org.get(root, headers={"Authorization": ""})).status_code == 401


async def test_sessions_and_field_trips_are_scheduled_with_lecturer_and_venue(centre):
    lecturer, venue = await centre.lecturer("Bùi Thị Thu"), await centre.venue("Phòng học số 2")
    problem(await centre.post("/venues", {"name": "Phòng học số 2"}), 409, "venue-exists")
    class_id = (await centre.new_class(status="planned"))["class_id"]
    lesson = await centre.session(class_id, lecturer, venue, topic="Nghị quyết Đại hội XIV")
    assert lesson.status_code == 201, lesson.text
    assert {k: lesson.json()[k] for k in ("venue", "lecturer_name", "starts_at", "ends_at", "field_trip_site")} == {
        "venue": "Phòng học số 2", "lecturer_name": "Bùi Thị Thu", "starts_at": "07:30:00", "ends_at": "11:00:00",
        "field_trip_site": None}
    trip = await centre.session(class_id, lecturer, day="2027-03-04", start="06:30", end="17:00",
                                topic="Tham quan di tích", field_trip_site="Đền thờ Lê Lai, Ngọc Lặc")
    assert trip.status_code == 201 and trip.json()["field_trip_site"] == trip.json()["venue"]
    problem(await centre.session(class_id, lecturer, day="2027-03-05"), 422, "invalid-input")  # neither
    problem(await centre.session(class_id, lecturer, venue, day="2027-04-01"), 409, "session-outside-class")
    problem(await centre.session(class_id, lecturer, venue, start="11:00", end="10:00", day="2027-03-06"), 422,
            "session-slot-invalid")
    problem(await centre.session(class_id, str(uuid.uuid4()), venue, day="2027-03-06"), 422, "lecturer-unknown")
    problem(await centre.session(class_id, lecturer, str(uuid.uuid4()), day="2027-03-06"), 422, "venue-unknown")

    opened = (await centre.post(f"/classes/{class_id}/open")).json()
    assert opened["planned_sessions"] == 10  # the programme's 10, of which 2 are scheduled so far
    sessions = (await centre.client.get(f"{centre.base}/classes/{class_id}/sessions")).json()
    assert [s["topic"] for s in sessions] == ["Nghị quyết Đại hội XIV", "Tham quan di tích"]
    timetable = (await centre.client.get(f"{centre.root}/v1/lecturers/{lecturer}/sessions")).json()
    assert [s["session_id"] for s in timetable] == [s["session_id"] for s in sessions]

    cancelled = await centre.post(f"/classes/{class_id}/sessions/{lesson.json()['session_id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    problem(await centre.post(f"/classes/{class_id}/sessions/{lesson.json()['session_id']}/cancel"), 409,
            "session-cancelled")
    assert (await centre.client.get(f"{centre.base}/classes/{class_id}")).json()["planned_sessions"] == 10  # still


async def test_a_lecturer_booked_at_two_centres_at_overlapping_times_is_refused_naming_the_clash(two_centres):
    hau_loc, nga_son = two_centres
    lecturer = await hau_loc.lecturer("Hoàng Văn Sử", "party_leader")
    first = (await hau_loc.new_class(title="Lớp Lịch sử Đảng bộ huyện"))["class_id"]
    second = (await nga_son.new_class(title="Lớp kết nạp Đảng đợt 3", programme_type="ket_nap_dang"))["class_id"]
    booked = await hau_loc.session(first, lecturer, await hau_loc.venue(), start="07:30", end="11:00")
    assert booked.status_code == 201

    venue = await nga_son.venue()
    clash = problem(await nga_son.session(second, lecturer, venue, start="10:00", end="11:30"), 409, "lecturer-clash")
    assert "Lớp Lịch sử Đảng bộ huyện" in clash["detail"] and "02/03/2027 07:30–11:00" in clash["detail"]
    assert "Hoàng Văn Sử" in clash["detail_vi"]
    assert clash["clashing_session"]["session_id"] == booked.json()["session_id"]
    assert clash["clashing_session"]["centre"] == hau_loc.code
    assert (await nga_son.session(second, lecturer, venue, start="11:00", end="12:00")).status_code == 201
    assert (await nga_son.session(second, lecturer, venue, day="2027-03-03")).status_code == 201


async def test_a_venue_booked_twice_at_overlapping_times_is_refused_and_free_again_after_a_cancellation(centre):
    venue = await centre.venue("Hội trường lớn")
    a = (await centre.new_class(title="Lớp A"))["class_id"]
    b = (await centre.new_class(title="Lớp B"))["class_id"]
    held = await centre.session(a, await centre.lecturer("Giảng viên 1"), venue, start="13:30", end="17:00")
    other_lecturer = await centre.lecturer("Giảng viên 2")
    clash = problem(await centre.session(b, other_lecturer, venue, start="14:00", end="15:00"), 409, "venue-clash")
    assert "Hội trường lớn" in clash["detail"] and "Lớp A" in clash["detail"] and "13:30–17:00" in clash["detail"]
    await centre.post(f"/classes/{a}/sessions/{held.json()['session_id']}/cancel")
    assert (await centre.session(b, other_lecturer, venue, start="14:00", end="15:00")).status_code == 201


async def test_twenty_concurrent_bookings_of_one_lecturer_at_one_slot_in_twenty_classes_let_exactly_one_through(
        two_centres):
    hau_loc, nga_son = two_centres
    lecturer = await hau_loc.lecturer("Đặng Thị Đồng Thời")
    venues = {c.code: [await c.venue(f"Phòng {i}") for i in range(10)] for c in (hau_loc, nga_son)}
    classes = [(c, (await c.new_class(title=f"Lớp song song {c.code} {i}"))["class_id"], venues[c.code][i])
               for c in (hau_loc, nga_son) for i in range(10)]
    responses = await asyncio.gather(*(c.session(class_id, lecturer, venue, start="07:30", end="11:00")
                                       for c, class_id, venue in classes))
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 1 and codes.count(409) == 19, codes
    winner = next(r.json() for r in responses if r.status_code == 201)
    for r in responses:
        if r.status_code == 409:
            assert problem(r, 409, "lecturer-clash")["clashing_session"]["session_id"] == winner["session_id"]
    timetable = (await hau_loc.client.get(f"{hau_loc.root}/v1/lecturers/{lecturer}/sessions")).json()
    assert [s["session_id"] for s in timetable] == [winner["session_id"]]


async def test_ten_concurrent_bookings_of_one_venue_with_different_lecturers_let_exactly_one_through(centre):
    venue = await centre.venue("Hội trường tranh chấp")
    lecturers = [await centre.lecturer(f"Giảng viên {i}") for i in range(10)]
    classes = [(await centre.new_class(title=f"Lớp {i}"))["class_id"] for i in range(10)]
    responses = await asyncio.gather(*(centre.session(c, l, venue) for c, l in zip(classes, lecturers)))
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 1 and codes.count(409) == 9, codes
    assert all(r.json()["type"].endswith("venue-clash") for r in responses if r.status_code == 409)


async def test_another_centre_s_classes_look_like_they_do_not_exist(services, issuer, centre):
    class_id = (await centre.new_class())["class_id"]
    outsider = issuer.headers("centre-staff", centre="someone-else")
    async with httpx.AsyncClient(timeout=30, headers=outsider) as client:
        for path in ("/start", "/cancel", "/sessions"):
            r = await client.post(f"{centre.base}/classes/{class_id}{path}", json={"reason": "x"})
            assert r.status_code == 404
        r = await client.post(f"{centre.root}/v1/centres/someone-else/classes/{class_id}/start")
        assert r.status_code in (403, 404)  # 404 once centre staff may write classes there (it is not theirs)
