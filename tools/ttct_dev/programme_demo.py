"""`python -m ttct_dev.programme_demo`: one whole programme at the Hậu Lộc political centre, through the public HTTP
APIs of the four services on a private stack it starts and stops.

The centre plans a Sơ cấp LLCT class from its catalogue and schedules its sessions (a lecturer booked twice is
refused, naming the clash); a commune's party committee sends its list (the preflight finds a bad date, the
fixed list imports, the class is full so one learner waits); a withdrawal promotes the waiting learner;
attendance is taken and one learner loses eligibility; scores and conduct are recorded, finalisation issues the
certificates, anyone verifies one; the year's figures show the programme. Every step checks what it got back and
the demo exits non-zero at the first one that did not behave.
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from ttct_dev.services import Services
from ttct_dev.stack import LocalStack
from ttct_dev.tokens import LocalIssuer

CENTRE = "hau-loc"
ORGANISATION = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}
RETRYABLE = ("class-unknown", "learner-not-in-class", "session-unknown")
# the organisation's list; row 4's date does not exist (the preflight finds it), FIXED_DATE is what the office
# sends back
LIST = [("Lê Thị Bình", "12/04/1988"), ("Trần Văn An", "03/09/1990"), ("Phạm Văn Cường", "21/01/1985"),
        ("Hoàng Thị Lan", "31/02/1992"), ("Nguyễn Văn Dũng", "07/07/1979"), ("Đỗ Minh Sơn", "15/10/1995"),
        ("Vũ Thị Mai", "28/06/1993")]
FIXED_DATE = "28/02/1992"
CAPACITY = 6
SESSIONS = 5
# final scores of the learners who sit the test, by name: one of each grade band
SCORES = {"Lê Thị Bình": 9.2, "Trần Văn An": 8.1, "Hoàng Thị Lan": 7.4, "Nguyễn Văn Dũng": 5.6,
          "Vũ Thị Mai": 4.2}
ABSENT = "Đỗ Minh Sơn"  # misses sessions 1 and 2 of 5: more than 20%
LEAVES = "Phạm Văn Cường"  # withdraws; the waiting learner takes the seat


class DemoFailed(Exception):
    """A step did not behave as the programme expects."""


def check(ok: bool, what: str, response: httpx.Response | None = None) -> None:
    if not ok:
        got = f" (HTTP {response.status_code}: {response.text[:400]})" if response is not None else ""
        raise DemoFailed(what + got)


def step(title: str) -> None:
    print(f"\n▶ {title}")


def say(line: str) -> None:
    print(f"  {line}")


async def until_known(call: Callable[[], Awaitable[httpx.Response]], attempts: int = 300) -> httpx.Response:
    """A command on something another service publishes may arrive before that service heard of it: retry."""
    for _ in range(attempts):
        response = await call()
        if response.status_code not in (404, 409) or not response.json().get("type", "").endswith(RETRYABLE):
            return response
        await asyncio.sleep(0.05)
    return response


async def eventually(read: Callable[[], Awaitable[httpx.Response]], ready: Callable[[dict | list], bool],
                     what: str, timeout: float = 30.0) -> dict | list:
    """Read a projection until it shows what the commands did (it follows the streams a moment behind)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await read()
        if r.status_code == 200 and ready(r.json()):
            return r.json()
        if asyncio.get_running_loop().time() > deadline:
            raise DemoFailed(f"{what} (last HTTP {r.status_code}: {r.text[:400]})")
        await asyncio.sleep(0.2)


def csv(rows: list[tuple[str, str]]) -> bytes:
    return ("\ufeffHọ và tên,Ngày sinh\n" + "".join(f"{n},{d}\n" for n, d in rows)).encode()


@dataclass
class Story:
    """What the programme left behind, for the tests to check."""

    centre: str
    year: int
    class_id: str = ""
    learners: dict[str, str] = field(default_factory=dict)  # name → learner id
    certificates: list[dict] = field(default_factory=list)
    figures: dict = field(default_factory=dict)


class Centre:
    def __init__(self, urls: dict[str, str], client: httpx.AsyncClient, code: str) -> None:
        self.client, self.code = client, code
        self.scheduling = f"{urls['scheduling']}/v1/centres/{code}"
        self.enrolment = f"{urls['enrolment']}/v1/centres/{code}"
        self.assessment = f"{urls['assessment']}/v1/centres/{code}"
        self.lecturers = f"{urls['scheduling']}/v1/lecturers"
        self.public = f"{urls['assessment']}/v1/public"
        self.province = f"{urls['assessment']}/v1/figures"

    async def post(self, url: str, body: object = None, expect: int | tuple[int, ...] = (200, 201),
                   what: str = "") -> dict:
        r = await until_known(lambda: self.client.post(url, json=body))
        check(r.status_code in ((expect,) if isinstance(expect, int) else expect), what or f"POST {url}", r)
        return r.json()

    async def venue(self, name: str, seats: int) -> dict:
        r = await self.client.post(f"{self.scheduling}/venues", json={"name": name, "seats": seats})
        if r.status_code == 409:  # a second run on the same stack
            return next(v for v in await self.get(f"{self.scheduling}/venues") if v["name"] == name)
        check(r.status_code == 201, f"the venue {name} is registered", r)
        return r.json()

    async def get(self, url: str, **params) -> dict | list:
        r = await self.client.get(url, params=params)
        check(r.status_code == 200, f"GET {url}", r)
        return r.json()


async def plan(c: Centre, story: Story, starts: date) -> list[str]:
    step("The centre plans a class from its programme catalogue")
    catalogue = await c.get(f"{c.scheduling}/programmes")
    so_cap = next((p for p in catalogue if p["programme_type"] == "so_cap_llct"), None)
    check(so_cap is not None, "the catalogue has a Sơ cấp LLCT programme")
    say(f"catalogue: {len(catalogue)} programmes; «{so_cap['name']}» plans {so_cap['planned_sessions']} sessions, "
        f"absence limit {float(so_cap['max_absence_ratio']):.0%}, scheme {so_cap['assessment_scheme']}")
    r = await c.client.put(f"{c.scheduling}/programmes/so-cap-{starts.year}", json={
        **{k: so_cap[k] for k in ("programme_type", "max_absence_ratio", "excused_absences_count",
                                  "assessment_scheme")},
        "name": f"Sơ cấp lý luận chính trị (lớp ngắn {starts.year})", "planned_sessions": SESSIONS})
    check(r.status_code == 200, "the year's short Sơ cấp programme is defined from the catalogue's", r)
    say(f"this year's variant so-cap-{starts.year}: {SESSIONS} sessions, the same rules")
    planned = await c.post(f"{c.scheduling}/classes", {
        "programme_type": "so_cap_llct", "programme_code": f"so-cap-{starts.year}", "status": "planned",
        "title": f"Lớp Sơ cấp lý luận chính trị khóa 1 năm {starts.year}", "capacity": CAPACITY,
        "starts_on": starts.isoformat(), "ends_on": (starts + timedelta(days=20)).isoformat(),
        "venue": "Hội trường Trung tâm Chính trị huyện Hậu Lộc"}, expect=201, what="the class is planned")
    check(planned["status"] == "planned", f"the class is in the plan, got {planned['status']}")
    story.class_id = class_id = planned["class_id"]
    opened = await c.post(f"{c.scheduling}/classes/{class_id}/open", what="the class opens for enrolment")
    check(opened["status"] == "open" and opened["planned_sessions"] == SESSIONS,
          f"the class is open with the programme's {SESSIONS} sessions, got {opened['status']}, "
          f"{opened['planned_sessions']}")
    say(f"«{opened['title']}»: planned, then opened for enrolment; {CAPACITY} seats")

    step("Sessions and lecturers; a lecturer booked twice is refused")
    teacher = await c.post(c.lecturers, {"full_name": "Nguyễn Thị Hạnh", "kind": "in_house", "home_centre": c.code},
                           expect=201, what="an in-house lecturer is registered")
    leader = await c.post(c.lecturers, {"full_name": "Lê Đình Bí", "kind": "party_leader",
                                        "position": "Phó Bí thư Thường trực Huyện ủy"}, expect=201,
                          what="a party leader who teaches is registered")
    venue, room = await c.venue("Hội trường A", 120), await c.venue("Phòng học số 2", 60)
    topics = ["Chủ nghĩa Mác - Lênin, tư tưởng Hồ Chí Minh", "Lịch sử Đảng bộ huyện Hậu Lộc",
              "Tham quan Khu di tích lịch sử", "Nghị quyết Đại hội Đảng", "Công tác xây dựng Đảng ở cơ sở"]
    sessions = []
    for i, topic in enumerate(topics):
        lecturer = leader if i in (1, 2) else teacher
        where = {"field_trip_site": "Đền thờ Dương Đình Nghệ, Hậu Lộc"} if i == 2 else {"venue_id": venue["venue_id"]}
        s = await c.post(f"{c.scheduling}/classes/{class_id}/sessions", {
            "session_date": (starts + timedelta(days=i)).isoformat(), "starts_at": "07:30", "ends_at": "11:00",
            "topic": topic, "lecturer_id": lecturer["lecturer_id"], **where}, expect=201,
            what=f"session {i + 1} is scheduled")
        sessions.append(s["session_id"])
        say(f"session {i + 1}: {s['session_date']} {s['starts_at'][:5]}–{s['ends_at'][:5]} «{topic}», "
            f"{s['lecturer_name']}, {s['venue']}")
    other = await c.post(f"{c.scheduling}/classes", {
        "programme_type": "ket_nap_dang", "title": "Lớp bồi dưỡng đối tượng kết nạp Đảng đợt 1", "capacity": 80,
        "starts_on": starts.isoformat(), "ends_on": (starts + timedelta(days=5)).isoformat(),
        "venue": "Hội trường Trung tâm"}, expect=201, what="a second class opens")
    r = await c.client.post(f"{c.scheduling}/classes/{other['class_id']}/sessions", json={
        "session_date": starts.isoformat(), "starts_at": "09:00", "ends_at": "10:30", "topic": "Điều lệ Đảng",
        "lecturer_id": teacher["lecturer_id"], "venue_id": room["venue_id"]})
    check(r.status_code == 409 and r.json()["type"].endswith("lecturer-clash"),
          "the lecturer booked twice is refused with 409", r)
    say(f"refused (409 {r.json()['type'].rsplit(':', 1)[-1]}): {r.json()['detail']}")
    say(f"  lý do: {r.json()['detail_vi']}")
    await c.post(f"{c.scheduling}/classes/{other['class_id']}/sessions", {
        "session_date": starts.isoformat(), "starts_at": "13:30", "ends_at": "16:30", "topic": "Điều lệ Đảng",
        "lecturer_id": teacher["lecturer_id"], "venue_id": room["venue_id"]}, expect=201,
        what="the afternoon slot is free")
    say("moved to the afternoon, 13:30–16:30: accepted")
    return sessions


async def enrol(c: Centre, story: Story) -> None:
    step(f"{ORGANISATION['name']} sends its list: preflight, fix, import")
    url = f"{c.enrolment}/classes/{story.class_id}/enrolments"
    await until_known(lambda: c.client.get(url))
    form = {"organisation_code": ORGANISATION["code"], "organisation_name": ORGANISATION["name"]}

    async def upload(rows, preflight: bool) -> dict:
        r = await until_known(lambda: c.client.post(f"{url}/import", params={"preflight": str(preflight).lower()},
                                                    data=form, files={"file": ("danh-sach.csv", csv(rows),
                                                                               "text/csv")}))
        check(r.status_code == 200, "the list is read", r)
        return r.json()

    report = await upload(LIST, preflight=True)
    errors = [row for row in report["results"] if row["status"] == "error"]
    check([e["row"] for e in errors] == [5] and errors[0]["problems"][0]["code"] == "malformed-date",
          f"the preflight finds exactly the bad date on row 5, found {errors}")
    say(f"preflight of {report['rows']} rows: {report['counts']}; nothing changed")
    for problem in errors[0]["problems"]:
        say(f"row {errors[0]['row']} ({LIST[errors[0]['row'] - 2][0]}): {problem['detail']} — {problem['detail_vi']}")
    check(await c.get(url) == [], "a preflight enrols nobody")
    fixed = [(n, FIXED_DATE if n == "Hoàng Thị Lan" else d) for n, d in LIST]
    say(f"the office corrects the date of birth to {FIXED_DATE} and sends the list again")
    report = await upload(fixed, preflight=False)
    check(report["counts"] == {"enrolled": CAPACITY, "waitlisted": len(LIST) - CAPACITY},
          f"{CAPACITY} enrolled and the rest waiting, got {report['counts']}")
    for row in report["results"]:
        story.learners[row["full_name"]] = row["learner_id"]
        where = f"seat {row['seat_number']}" if row["status"] == "enrolled" else \
            f"waiting list, position {row['position']} ({row['reason']})"
        say(f"{row['full_name']:<18} {row['status']:<11} {where}")
    again = await upload(fixed, preflight=False)
    check(set(again["counts"]) == {"already-enrolled", "already-waiting"}, "re-importing enrols nobody twice")
    say(f"the same file again: {again['counts']} (nobody twice)")

    step("A withdrawal promotes the first waiting learner")
    waiting = await c.get(f"{c.enrolment}/classes/{story.class_id}/waiting-list")
    check(len(waiting) == 1, "one learner waits")
    withdrawal = await c.post(f"{url}/{story.learners[LEAVES]}/withdraw",
                              {"reason": "Được cử đi công tác dài ngày"}, what="the learner withdraws")
    promoted = withdrawal["promoted"]
    check([p["learner_id"] for p in promoted] == [waiting[0]["learner_id"]], "the waiting learner is promoted")
    say(f"{LEAVES} withdraws (được cử đi công tác); {promoted[0]['full_name']} moves from the waiting list "
        f"into seat {promoted[0]['seat_number']}")
    roster = await c.get(url)
    check(len(roster) == CAPACITY and LEAVES not in {e["full_name"] for e in roster}, "the class is full again")
    del story.learners[LEAVES]


async def attend(c: Centre, story: Story, sessions: list[str]) -> None:
    step("Attendance; one learner can no longer reach the threshold")
    base = f"{c.assessment}/classes/{story.class_id}"
    seated = set(story.learners.values())
    await eventually(lambda: c.client.get(f"{base}/attendance"),
                     lambda rows: {r["learner_id"] for r in rows} == seated,
                     "assessment knows the class's six learners")
    for i, session in enumerate(sessions):
        marks = [{"learner_id": lid, "status": "absent" if name == ABSENT and i < 2 else
                  "excused" if name == "Trần Văn An" and i == 3 else "present"}
                 for name, lid in story.learners.items()]
        r = await until_known(lambda: c.client.put(f"{base}/sessions/{session}/attendance", json={"marks": marks}))
        check(r.status_code == 200, f"session {i + 1}'s attendance is recorded", r)
        standing = {s["learner_id"]: s for s in await c.get(f"{base}/attendance")}
        absent = standing[story.learners[ABSENT]]
        if i == 0:
            check(absent["eligible"], "one absence of five may still be made up for")
            say(f"session 1: {ABSENT} absent (1 of {absent['sessions_counted']}): still eligible")
        elif i == 1:
            check(not absent["eligible"] and absent["eligibility_lost_notified"],
                  "the second absence loses eligibility, and it is told")
            say(f"session 2: {ABSENT} absent again ({absent['absences']} of {absent['sessions_counted']}, more than "
                f"20%): may not sit the final test; EligibilityLost is published, for notification to alert "
                f"{ORGANISATION['name']} and the head of its party committee")
    say("sessions 3–5 recorded (Trần Văn An excused once)")


async def assess(c: Centre, story: Story) -> None:
    step("Scores, conduct, and finalisation")
    base = f"{c.assessment}/classes/{story.class_id}"
    for name, score in list(SCORES.items())[:-1]:
        r = await c.post(f"{base}/scores", {"learner_id": story.learners[name], "score": score}, expect=201,
                         what=f"{name}'s score is recorded")
        say(f"{name:<18} {score:>4}  {r['grade_label']:<10} (scheme {r['scheme_version']})")
    r = await c.client.post(f"{base}/finalisation")
    last = list(SCORES)[-1]
    check(r.status_code == 409 and r.json()["type"].endswith("scores-missing") and last in r.json()["detail"],
          "finalisation is refused while an eligible learner has no score", r)
    say(f"finalisation refused (409 scores-missing): {r.json()['detail']}")
    r = await c.post(f"{base}/scores", {"learner_id": story.learners[last], "score": SCORES[last]}, expect=201)
    say(f"{last:<18} {SCORES[last]:>4}  {r['grade_label']}")
    for name, lid in story.learners.items():
        await c.post(f"{base}/conduct", {"learner_id": lid, "rating": "kha" if name == ABSENT else "tot"},
                     what="conduct is rated")
    say("conduct (rèn luyện) rated for every learner")
    final = await c.post(f"{base}/finalisation", expect=201, what="the results are finalised")
    check((final["learners"], final["passed"]) == (CAPACITY, 4), f"6 results, 4 passed; got {final['passed']}")
    for row in final["results"]:
        outcome = "not eligible" if not row["eligible"] else f"{row['final_score']} {row['grade_label']}"
        say(f"{row['full_name']:<18} {outcome:<16} {'passed' if row['passed'] else 'not passed':<11} "
            f"{row['certificate_number'] or ''}")

    step("Certificates, and one verified by anyone")
    story.certificates = await c.get(f"{base}/certificates")
    check(len(story.certificates) == 4 and not any(x["revoked"] for x in story.certificates), "4 certificates")
    say(", ".join(x["certificate_number"] for x in story.certificates))
    one = story.certificates[0]
    async with httpx.AsyncClient(timeout=30) as anyone:  # no token
        verified = (await anyone.get(f"{c.public}/certificates/{one['verification_code']}")).json()
        forged = (await anyone.get(f"{c.public}/certificates/0000-0000-0000-0000")).json()
    check(verified["genuine"] and verified["full_name"] == one["full_name"], "the certificate is genuine")
    check(forged == {"genuine": False, "full_name": None, "programme_type": None, "programme": None},
          "an unknown code is not genuine and tells nothing")
    say(f"verification code {one['verification_code']}: genuine, {verified['full_name']}, «{verified['programme']}»")
    say("an invented code: not genuine, and nothing else is said")


async def figures(c: Centre, story: Story, province_admin: dict) -> None:
    step(f"The year's figures ({story.year})")
    expected = {"xuat_sac": 1, "gioi": 1, "kha": 1, "trung_binh": 1, "khong_dat": 1}

    def complete(f) -> bool:
        return f["total"]["places"] == CAPACITY and f["total"]["results"]["finalised"] == CAPACITY

    f = await eventually(lambda: c.client.get(f"{c.assessment}/figures", params={"year": story.year}), complete,
                         "the figures show the programme")
    total, results = f["total"], f["total"]["results"]
    check((total["classes"], total["cancelled_classes"], total["places"]) == (2, 0, CAPACITY),
          f"2 classes and {CAPACITY} places, got {total}")
    check((results["passed"], results["ineligible"], results["grades"]) == (4, 1, expected),
          f"4 passed, 1 ineligible, one of each band; got {results}")
    say(f"{c.code}: {total['classes']} classes, {total['places']} learner places, {results['finalised']} results, "
        f"pass rate {results['pass_rate']:.0%}")
    say("grades: " + ", ".join(f"{k} {v}" for k, v in results["grades"].items()) + f", not eligible "
        f"{results['ineligible']}")
    for line in f["by_programme_type"]:
        say(f"  {line['programme_type']:<14} {line['classes']} classes, {line['places']} places")
    for line in f["by_organisation"]:
        say(f"  {line['organisation_name']}: {line['places']} places, {line['results']['passed']} passed")
    r = await c.client.get(c.province, params={"year": story.year})
    check(r.status_code == 403, "centre staff do not see the province's figures", r)
    r = await c.client.get(c.province, params={"year": story.year}, headers=province_admin)
    check(r.status_code == 200, "the province admin sees the province's figures", r)
    mine = next((line for line in r.json()["by_centre"] if line["centre"] == c.code), None)
    check(mine is not None and mine["places"] == CAPACITY, "the province's figures include the centre's")
    say(f"the province ({len(r.json()['by_centre'])} centre(s)): {r.json()['total']['places']} places; "
        f"the centre's own staff get 403 there")
    story.figures = f


async def play(urls: dict[str, str], issuer: LocalIssuer, *, centre: str = CENTRE,
               today: date | None = None) -> Story:
    """The whole programme, each call with the token of the actor who makes it. Raises DemoFailed."""
    today = today or datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    starts = today + timedelta(days=7)
    story = Story(centre=centre, year=starts.year)
    async with httpx.AsyncClient(timeout=60, headers=issuer.headers("centre-staff", centre=centre)) as client:
        c = Centre(urls, client, centre)
        sessions = await plan(c, story, starts)
        await enrol(c, story)
        await attend(c, story, sessions)
        await assess(c, story)
        await figures(c, story, issuer.headers("province-admin"))
    return story


async def _play_and_report(urls: dict[str, str], issuer: LocalIssuer) -> bool:
    try:
        await play(urls, issuer)
    except DemoFailed as failed:
        print(f"\nFAIL: {failed}")
        return False
    print("\nPASS: a whole programme, from the plan to the year's figures")
    return True


def main() -> None:
    # the stack and the services start outside the event loop (they run their own short loops to provision)
    with tempfile.TemporaryDirectory(prefix="ttct-programme-demo-") as tmp:
        issuer = LocalIssuer(Path(tmp))
        with LocalStack(Path(tmp) / "stack", durable=False) as stack, \
                Services(stack.start(), issuer, log_dir=Path(tmp)) as services:
            ok = asyncio.run(_play_and_report(services.urls, issuer))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
