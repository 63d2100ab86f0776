"""`python -m ttct_dev.programme_demo`: one whole programme at the Hậu Lộc political centre, through the public HTTP
APIs of the four services on a private stack it starts and stops.

The centre plans a Sơ cấp LLCT class from its catalogue and schedules its sessions (a lecturer booked twice is
refused, naming the clash); a commune's party committee sends its list (the preflight finds a bad date, the
fixed list imports with the dispatch decisions that sent the learners, the class is full so one learner waits); a withdrawal promotes the waiting learner;
attendance is taken and one learner loses eligibility; scores and conduct are recorded, finalisation issues the
certificates, anyone verifies one; the learners' evaluation forms and the centre's lessons-learned review are
entered; the year's figures show the programme; the lecturers' teaching hours of last year are reported; at the
end the two communes merge into one (previewed, then ordered by the province admin): their codes are refused from
then on, naming the successor, and the year's figures read by today's map add up into it. Then the province's map
of centres changes too: Hậu Lộc and its neighbour, the Nga Sơn centre, are entered in the province's register of
centres and Nga Sơn is merged into Hậu Lộc (previewed, then ordered): Hậu Lộc's staff reach Nga Sơn's classes,
a Nga Sơn token is refused naming Hậu Lộc, and Hậu Lộc's certificates still verify naming it.

The class result report ("Thông báo kết quả học tập") then reaches each sending organisation the way it asked:
Đảng ủy xã Hoa Lộc by a signed webhook (its receiver, run here, verifies every delivery with the Standard Webhooks
reference library, and answers 503 to the report's first two attempts: the report arrives on the third with the
same webhook-id, and the delivery log shows all three); Đảng ủy xã Liên Lộc, two of whose learners came in the
same list, by email with the report as a PDF, through a real SMTP server run here (aiosmtpd), and the head of its
party committee too; the PDF is saved to the output folder (`--output DIR`, default ./demo-output/) and its text
read back. The demo ends by writing the class's papers there: the class list, the timetable, the first session's
attendance sheet, the score sheet, the certificates and the result reports (PDF), and the class list as XLSX.

Every step checks what it got back and the demo exits non-zero at the first one that did not behave.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from ttct_dev.mailbox import Mailbox, pdf_text
from ttct_dev.receiver import WebhookReceiver
from ttct_dev.services import Services
from ttct_dev.stack import LocalStack
from ttct_dev.tokens import LocalIssuer

CENTRE = "hau-loc"
CENTRE_NAME = "Trung tâm Chính trị huyện Hậu Lộc"
# who the centre is on paper: the heading of its papers and who signs them (CENTRES)
CENTRE_PROFILE = {"name": CENTRE_NAME, "superior": "Huyện ủy Hậu Lộc", "place": "Hậu Lộc",
                  "director": "Nguyễn Văn Hùng"}
PAPERS = (  # the class's papers written to the output folder: (service, path, file, what it must say)
    ("enrolment", "/class-list", "danh-sach-hoc-vien.pdf", "DANH SÁCH HỌC VIÊN"),
    ("scheduling", "/timetable", "lich-hoc.pdf", "LỊCH HỌC"),
    ("assessment", "/sessions/{session}/attendance-sheet", "danh-sach-hoc-vien-du-hoc-buoi-1.pdf",
     "DANH SÁCH HỌC VIÊN DỰ HỌC"),
    ("assessment", "/score-sheet", "bang-diem.pdf", "BẢNG ĐIỂM"),
    ("assessment", "/certificate-papers", "giay-chung-nhan.pdf", "GIẤY CHỨNG NHẬN"),
    ("assessment", "/result-reports", "thong-bao-ket-qua-hoc-tap.pdf", "THÔNG BÁO KẾT QUẢ HỌC TẬP"),
    ("enrolment", "/class-list", "danh-sach-hoc-vien.xlsx", "Họ và tên"),
)
ORGANISATION = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}  # sends the list; told by webhook
BY_EMAIL = {"code": "xa-lien-loc", "name": "Đảng ủy xã Liên Lộc"}  # two of the list's learners; told by email
SUCCESSOR = {"code": "xa-hau-loc", "name": "Đảng ủy xã Hậu Lộc"}  # the two communes merge into it at the end
NEIGHBOUR = {"code": "nga-son", "name": "Trung tâm Chính trị huyện Nga Sơn"}  # merged into the centre at the end
BY_EMAIL_LEARNERS = ("Trần Văn An", "Nguyễn Văn Dũng")  # their rows name Liên Lộc in Mã đơn vị / Tên đơn vị
# the directory's contacts: Hoa Lộc gives no email (told by webhook only); Liên Lộc's office is emailed the
# organisation's notices, its secretary (the head of its party committee) the alerts meant for the head
WEBHOOK_CONTACTS = [{"name": "Lê Văn Thành", "role": "Bí thư Đảng ủy", "phone": "0237 3831 001", "is_head": True},
                    {"name": "Văn phòng Đảng ủy", "role": "office", "phone": "0237 3831 002"}]
OFFICE_EMAIL = "vanphong@lienloc.example.vn"
HEAD_EMAIL = "bithu@lienloc.example.vn"
EMAIL_CONTACTS = [{"name": "Phạm Thị Hương", "role": "Bí thư Đảng ủy", "email": HEAD_EMAIL, "is_head": True},
                  {"name": "Văn phòng Đảng ủy xã Liên Lộc", "role": "office", "email": OFFICE_EMAIL}]
REPORT = "class.result_report"
REPORT_TITLE = "Thông báo kết quả học tập"
FAIL_WITH = [503, 503]  # Hoa Lộc's receiver answers these to the report's first attempts, then recovers
RETRY_SCHEDULE = "0,0.5,1,2"  # the demo's WEBHOOK_RETRY_SCHEDULE (the default spreads 8 attempts over 3 days)
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


def csv(rows: list[tuple[str, str]], other: dict[str, str]) -> bytes:
    """The list as the office sends it: rows that name no organisation are the uploader's (the form's, sent by the
    form's dispatch decision); the other organisation's rows cite their own decision."""
    def org(name: str) -> str:
        if name in BY_EMAIL_LEARNERS:
            return f"{other['code']},{other['name']},{OTHER_DECISION['number']}," \
                   f"{OTHER_DECISION['signed_on'].strftime('%d/%m/%Y')},{OTHER_DECISION['signer']}"
        return ",,,,"
    return ("\ufeffHọ và tên,Ngày sinh,Mã đơn vị,Tên đơn vị,Số quyết định,Ngày quyết định,Người ký\n"
            + "".join(f"{n},{d},{org(n)}\n" for n, d in rows)).encode()


def decision(number: str, days_before: int, signer: str) -> dict:
    return {"number": number, "signed_on": datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date() - timedelta(days_before),
            "signer": signer}


# the dispatch decisions (quyết định cử đi học) that send the two organisations' learners
DECISION = decision("125-QĐ/ĐU", 10, "Nguyễn Văn Hòa, Bí thư Đảng ủy xã Hoa Lộc")
OTHER_DECISION = decision("48-QĐ/ĐU", 12, "Lê Thị Liên, Bí thư Đảng ủy xã Liên Lộc")


@dataclass
class Story:
    """What the programme left behind, for the tests to check."""

    centre: str
    year: int
    class_id: str = ""
    learners: dict[str, str] = field(default_factory=dict)  # name → learner id
    certificates: list[dict] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    by_webhook: dict[str, str] = field(default_factory=lambda: dict(ORGANISATION))  # code, name
    by_email: dict[str, str] = field(default_factory=lambda: dict(BY_EMAIL))
    report_webhook_id: str = ""  # the webhook-id the receiver verified the report with
    report_attempts: list[dict] = field(default_factory=list)  # the report's attempts in the delivery log
    delivery_log: list[dict] = field(default_factory=list)  # the webhook organisation's whole log
    report_pdf: Path | None = None  # where the emailed PDF was saved
    report_pdf_text: str = ""
    papers: list[Path] = field(default_factory=list)  # the class's papers written to the output folder


class Centre:
    def __init__(self, urls: dict[str, str], client: httpx.AsyncClient, code: str) -> None:
        self.client, self.code = client, code
        self.scheduling = f"{urls['scheduling']}/v1/centres/{code}"
        self.enrolment = f"{urls['enrolment']}/v1/centres/{code}"
        self.assessment = f"{urls['assessment']}/v1/centres/{code}"
        self.lecturers = f"{urls['scheduling']}/v1/lecturers"
        self.public = f"{urls['assessment']}/v1/public"
        self.province = f"{urls['assessment']}/v1/figures"
        self.directory = f"{urls['enrolment']}/v1/sending-organisations"
        self.register = f"{urls['enrolment']}/v1/province-centres"
        self.urls = urls
        self.notification = f"{urls['notification']}/v1/organisations"

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
    step(f"{story.by_webhook['name']} sends its list: preflight, fix, import")
    url = f"{c.enrolment}/classes/{story.class_id}/enrolments"
    await until_known(lambda: c.client.get(url))
    form = {"organisation_code": story.by_webhook["code"], "organisation_name": story.by_webhook["name"],
            "decision_number": DECISION["number"], "decision_date": DECISION["signed_on"].isoformat(),
            "decision_signer": DECISION["signer"]}
    say(f"sent by Quyết định số {DECISION['number']} ngày {DECISION['signed_on']:%d/%m/%Y} of "
        f"{DECISION['signer']} (the list's dispatch decision); Liên Lộc's rows cite Quyết định số "
        f"{OTHER_DECISION['number']}")
    say(f"with it, {' and '.join(BY_EMAIL_LEARNERS)} of {story.by_email['name']} (their rows name it in "
        f"Mã đơn vị / Tên đơn vị)")

    async def upload(rows, preflight: bool) -> dict:
        r = await until_known(lambda: c.client.post(f"{url}/import", params={"preflight": str(preflight).lower()},
                                                    data=form, files={"file": ("danh-sach.csv", csv(rows, story.by_email),
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
        say(f"{row['full_name']:<18} {row['status']:<11} {where:<38} "
            f"{(story.by_email if row['full_name'] in BY_EMAIL_LEARNERS else story.by_webhook)['name']}")
    roster = await c.get(url)
    cited = {r["full_name"]: (r.get("dispatch_decision") or {}).get("number") for r in roster}
    check(all(cited[n] == (OTHER_DECISION if n in BY_EMAIL_LEARNERS else DECISION)["number"] for n in cited),
          f"each seated learner's roster line cites the decision that sent them, got {cited}")
    say("the roster shows each learner's dispatch decision")
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
        r = await until_known(lambda session=session, marks=marks: c.client.put(
            f"{base}/sessions/{session}/attendance", json={"marks": marks}))
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
                f"{story.by_webhook['name']} and the head of its party committee")
    say("sessions 3–5 recorded (Trần Văn An excused once)")


async def assess(c: Centre, story: Story,
                 before_finalising: Callable[[], Awaitable[None]] | None = None) -> None:
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
    if before_finalising is not None:
        await before_finalising()
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
    check(forged["status"] == "unknown" and not forged["genuine"] and forged["full_name"] is None
          and forged["certificate_number"] is None,
          "an unknown code is not genuine and tells nothing")
    say(f"verification code {one['verification_code']}: genuine, {verified['full_name']}, «{verified['programme']}»")
    say("an invented code: not genuine, and nothing else is said")

async def directory(c: Centre, story: Story, issuer: LocalIssuer, receiver: WebhookReceiver | None) -> None:
    step("The sending organisations in the province's directory, and how each is told")
    for org, contacts in ((story.by_webhook, WEBHOOK_CONTACTS), (story.by_email, EMAIL_CONTACTS)):
        details = {"name": org["name"], "kind": "party-committee", "centre": c.code, "contacts": contacts}
        r = await c.client.post(c.directory, json={"code": org["code"], **details})
        if r.status_code == 409:  # a second run on the same stack: the details as this run gives them
            r = await c.client.put(f"{c.directory}/{org['code']}", json=details)
        check(r.status_code in (200, 201), f"{org['name']} is in the province's directory", r)
        say(f"{org['name']} ({org['code']}): " + "; ".join(
            f"{x['name']} ({x['role']}{', đứng đầu cấp ủy' if x.get('is_head') else ''}) "
            f"{x.get('email') or x.get('phone')}" for x in r.json()["contacts"]))
    if receiver is not None:
        code = story.by_webhook["code"]
        r = await c.client.post(f"{c.notification}/{code}/webhook-endpoints",
                                json={"url": receiver.url(code), "description": "Văn phòng Đảng ủy"},
                                headers=issuer.headers("organisation", org=code))
        check(r.status_code == 201 and r.json()["secret"].startswith("whsec_"),
              f"{story.by_webhook['name']} registers its webhook endpoint", r)
        receiver.secrets[code] = r.json()["secret"]
        say(f"{story.by_webhook['name']} registers a webhook endpoint {receiver.url(code)}; its secret "
            f"{r.json()['secret'][:10]}… is given to its receiver, which verifies every delivery with the "
            f"Standard Webhooks reference library")
    say(f"{story.by_email['name']} has no endpoint: its office ({OFFICE_EMAIL}) is told by email")


async def org_get(c: Centre, issuer: LocalIssuer, org: str, path: str, **params) -> list:
    """Read the organisation's own notification resources, with its own token."""
    r = await c.client.get(f"{c.notification}/{org}/{path}", params=params,
                           headers=issuer.headers("organisation", org=org))
    check(r.status_code == 200, f"{org} reads its {path}", r)
    return r.json()


async def quiet(c: Centre, story: Story, issuer: LocalIssuer, receiver: WebhookReceiver,
                timeout: float = 60.0) -> None:
    """Wait until every webhook notice so far reached the organisation, then make its receiver fail: the next
    notice to it (the result report) meets the failures, not a notice still in flight."""
    code = story.by_webhook["code"]
    scored = [n for n in SCORES if n in story.learners and n not in BY_EMAIL_LEARNERS]
    deadline = time.monotonic() + timeout
    while True:
        notices = await org_get(c, issuer, code, "notices", limit=1000)
        pending = [n for n in notices for d in n["deliveries"] if d["status"] == "pending"]
        scores = [n for n in notices if n["notice_type"] == "learner.result_recorded"]
        if len(scores) == len(scored) and not pending and \
                len(receiver.unique(code, "learner.result_recorded")) == len(scored):
            break
        if time.monotonic() > deadline:
            raise DemoFailed(f"{code}'s notices so far were delivered ({len(scores)} score notices of "
                             f"{len(scored)}, {len(pending)} pending)")
        await asyncio.sleep(0.2)
    kinds = sorted({r.payload["type"] for r in receiver.unique(code)})
    say(f"{story.by_webhook['name']} has its {len(receiver.unique(code))} notices so far, each verified "
        f"({', '.join(kinds)})")
    receiver.fail_next[code], receiver.fail_only[code] = list(FAIL_WITH), REPORT
    say(f"its receiver now goes down for the result report: its next {len(FAIL_WITH)} deliveries are answered "
        f"{', '.join(map(str, FAIL_WITH))}")


def _when(stamp: str) -> str:
    return datetime.fromisoformat(stamp).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%H:%M:%S.%f")[:-3]


async def by_webhook(c: Centre, story: Story, issuer: LocalIssuer, receiver: WebhookReceiver) -> None:
    org, code = story.by_webhook, story.by_webhook["code"]
    step(f"The class result report reaches {org['name']} by webhook, after its receiver recovers")
    deadline = time.monotonic() + 60
    while not receiver.unique(code, REPORT):
        if time.monotonic() > deadline:
            raise DemoFailed(f"{org['name']} receives its result report by webhook "
                             f"(got {[r.payload.get('type') for r in receiver.received[code]]})")
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a duplicate would show up now
    (report,) = receiver.unique(code, REPORT)
    data = report.payload["data"]
    deliveries = [r for r in receiver.received[code] if r.webhook_id == report.webhook_id]
    check(len(deliveries) == 1 and report.verified, f"the report arrived once, its signature verified, "
                                                    f"got {len(deliveries)}")
    check(report.webhook_id == data["notice_id"], "the webhook-id is the notice's id")
    check(receiver.fail_next[code] == [], "the receiver answered its failures before the report arrived")
    story.report_webhook_id = report.webhook_id
    expected = sorted((n for n in story.learners if n not in BY_EMAIL_LEARNERS), key=_vietnamese_order)
    names = [x["full_name"] for x in data["learners"]]
    check(data["title"] == REPORT_TITLE and data["class_id"] == story.class_id and names == expected,
          f"«{REPORT_TITLE}» for the class, its learners in Vietnamese order {expected}, got {data['title']}, "
          f"{names}")
    say(f"webhook-id {report.webhook_id}, signature verified (standardwebhooks): «{data['title']}»")
    say(f"{data['centre_name']} – {data['class_title']} – {org['name']}: {data['summary']['learners']} learners, "
        f"{data['summary']['passed']} passed")
    for x in data["learners"]:
        outcome = "không đủ điều kiện" if not x["eligible"] else f"{x['final_score']} {x['grade_label']}"
        say(f"  {x['full_name']:<18} {x['sessions_attended']}/{x['sessions_counted']} buổi  {outcome:<20} "
            f"{'đạt' if x['passed'] else 'không đạt':<10} rèn luyện {x['conduct_label'] or '—':<5} "
            f"{x['certificate_number'] or ''}")

    step(f"{org['name']}'s delivery log (GET /v1/organisations/{code}/deliveries)")

    def settled(log) -> bool:
        return any(a["notice_id"] == report.webhook_id and a["outcome"] == "delivered" for a in log)

    log = await eventually(lambda: c.client.get(f"{c.notification}/{code}/deliveries", params={"limit": 1000},
                                                headers=issuer.headers("organisation", org=code)),
                           settled, "the delivery log shows the report delivered")
    types = {n["notice_id"]: n["notice_type"] for n in await org_get(c, issuer, code, "notices", limit=1000)}
    say(f"{'time':<12} {'notice':<28} {'try':>3} {'HTTP':>4} {'ms':>5}  {'outcome':<10} error")
    for a in sorted(log, key=lambda a: (a["attempted_at"], a["attempt_id"])):
        mark = "  ← the report" if a["notice_id"] == report.webhook_id else ""
        say(f"{_when(a['attempted_at']):<12} {types.get(a['notice_id'], '?'):<28} {a['attempt_no']:>3} "
            f"{a['status_code'] if a['status_code'] is not None else '—':>4} "
            f"{a['latency_ms'] if a['latency_ms'] is not None else '—':>5}  {a['outcome']:<10} "
            f"{a['error'] or ''}{mark}")
    mine = [a for a in log if a["notice_id"] == report.webhook_id]
    shape = [(a["attempt_no"], a["status_code"], a["outcome"]) for a in mine]
    want = [(i + 1, status, "retry") for i, status in enumerate(FAIL_WITH)]
    check(len(mine) == len(FAIL_WITH) + 1 and shape[:-1] == want and shape[-1][2] == "delivered"
          and 200 <= (shape[-1][1] or 0) < 300 and len({a["delivery_id"] for a in mine}) == 1,
          f"the log shows the report's {len(FAIL_WITH)} failed attempts and then its delivery, got {shape}")
    story.delivery_log, story.report_attempts = log, mine
    waited = (datetime.fromisoformat(mine[-1]["attempted_at"]) -
              datetime.fromisoformat(mine[0]["attempted_at"])).total_seconds()
    say(f"the report: {len(FAIL_WITH)} attempts answered {', '.join(map(str, FAIL_WITH))}, retried on the "
        f"schedule {RETRY_SCHEDULE} s, delivered on attempt {shape[-1][0]} ({waited:.1f} s after the first), "
        f"all with webhook-id {report.webhook_id}: one notice, not {len(mine)}")


def _vietnamese_order(full_name: str) -> tuple[str, ...]:
    """Given name, then middle and family names (enough for the demo's names: no two share a given name)."""
    parts = full_name.split()
    return (parts[-1], *parts[1:-1], parts[0])


async def by_email(c: Centre, story: Story, issuer: LocalIssuer, mailbox: Mailbox, output: Path | None) -> None:
    org = story.by_email
    step(f"The class result report reaches {org['name']} by email, the report attached as a PDF")
    mail = await mailbox.wait_for(lambda m: OFFICE_EMAIL in m.recipients and m.subject.startswith(REPORT_TITLE)
                                  and bool(m.pdfs()), timeout=60)
    check(mail is not None, f"{OFFICE_EMAIL} receives «{REPORT_TITLE}» with a PDF; got "
                            f"{[(m.recipients, m.subject) for m in mailbox.received()]}")
    say(f"From {mail.message['From']} To {mail.message['To']}")
    say(f"Subject: {mail.subject}")
    say(f"X-TTCT-Notice-Id: {mail.notice_id}")
    (name, pdf), = mail.pdfs()
    text = pdf_text(pdf)
    for expected in (REPORT_TITLE.upper(), org["name"], *BY_EMAIL_LEARNERS):
        check(expected in text, f"the PDF's text has «{expected}»: {text[:300]}")
    check(f"Quyết định số {OTHER_DECISION['number']}" in text,
          f"the report cites the dispatch decision that sent them: {text[:400]}")
    check(text.index(BY_EMAIL_LEARNERS[0]) < text.index(BY_EMAIL_LEARNERS[1]),
          "the PDF lists An before Dũng (given names first)")
    story.report_pdf_text = text
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        story.report_pdf = output / name
        story.report_pdf.write_bytes(pdf)
        (output / f"{Path(name).stem}.eml").write_bytes(mail.message.as_bytes())
        say(f"attachment {name} ({len(pdf):,} bytes) saved to {story.report_pdf}, the whole message beside it "
            f"({Path(name).stem}.eml)")
    else:
        say(f"attachment {name} ({len(pdf):,} bytes)")
    say(f"the PDF's text reads back: «{REPORT_TITLE.upper()}», {org['name']}, {' and '.join(BY_EMAIL_LEARNERS)}, "
        f"with their diacritics")
    head = await mailbox.wait_for(lambda m: HEAD_EMAIL in m.recipients and m.subject.startswith(REPORT_TITLE)
                                  and bool(m.pdfs()), timeout=60)
    check(head is not None and head.notice_id != mail.notice_id,
          f"the head of the party committee ({HEAD_EMAIL}) receives the report too, as a notice of their own")
    say(f"the head of its party committee ({HEAD_EMAIL}) receives it too: {head.message['To']}, the same PDF")
    sent = await org_get(c, issuer, org["code"], "email-deliveries", notice_id=mail.notice_id)
    for a in sent:
        say(f"email log: {_when(a['attempted_at'])} to {a['address']}: SMTP {a['smtp_code']}, {a['latency_ms']} ms, "
            f"{a['outcome']}")
    check(any(a["outcome"] == "delivered" for a in sent), "the email log shows the report delivered", None)


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


EVALUATION_FORMS = (  # content, organisation, the in-house lecturer, the party leader, a comment
    (5, 5, 5, 4, "Nội dung thiết thực, gắn với lịch sử địa phương."), (4, 5, 4, 5, None), (5, 4, 5, 5, None),
    (4, 4, 4, 4, "Đề nghị thêm thời gian thảo luận."), (5, 5, 5, 5, None))


async def evaluate(c: Centre, story: Story) -> None:
    step("The learners evaluate the class; the centre reviews it (rút kinh nghiệm)")
    base = f"{c.assessment}/classes/{story.class_id}"
    sessions = await c.get(f"{c.scheduling}/classes/{story.class_id}/sessions")
    teacher, leader = (next(s["lecturer_id"] for s in sessions if s["lecturer_name"] == name)
                       for name in ("Nguyễn Thị Hạnh", "Lê Đình Bí"))
    for content, organisation, by_teacher, by_leader, comment in EVALUATION_FORMS:
        await c.post(f"{base}/evaluations", {
            "content": content, "organisation": organisation, "comment": comment,
            "lecturers": [{"lecturer_id": teacher, "rating": by_teacher}, {"lecturer_id": leader, "rating": by_leader}]},
            expect=201, what="a learner's evaluation form is entered")
    say(f"{len(EVALUATION_FORMS)} forms entered (anonymous: no learner on them)")
    r = await c.client.post(f"{base}/evaluations", json={"content": 5, "lecturers": [
        {"lecturer_id": teacher, "rating": 5}, {"lecturer_id": teacher, "rating": 4}]})
    check(r.status_code == 422 and r.json()["type"].endswith("lecturer-rated-twice"),
          "a form rating one lecturer twice is refused", r)
    say(f"refused (422 lecturer-rated-twice): {r.json()['detail_vi']}")
    await c.client.put(f"{base}/review", json={
        "strengths": "Học viên chuyên cần; buổi đi thực tế được đánh giá cao.",
        "shortcomings": "Thời gian thảo luận còn ít.", "lessons": "Bố trí thêm một buổi thảo luận nhóm."})
    found = await c.get(f"{base}/evaluation")
    check(found["forms"] == len(EVALUATION_FORMS) and float(found["content"]) == 4.6 and found["review"] is not None,
          f"the evaluation adds up: {found['forms']} forms, content {found['content']}")
    say(f"content {found['content']}, organisation {found['organisation']} (of 5), from {found['forms']} forms")
    for line in found["lecturers"]:
        say(f"  {line['full_name']}: {line['average']} from {line['answers']} forms")
    say(f"comments: {' | '.join(found['comments'])}")
    say(f"lessons learned: {found['review']['lessons']}")


async def teaching_hours(c: Centre, story: Story, today: date, output: Path | None) -> None:
    last_year = today.year - 1
    step(f"Lecturers' teaching hours for {last_year} (giờ giảng), from the sessions held")
    held = await c.post(f"{c.scheduling}/classes", {
        "programme_type": "ket_nap_dang", "title": f"Lớp bồi dưỡng đối tượng kết nạp Đảng đợt 3 năm {last_year}",
        "capacity": 80, "starts_on": f"{last_year}-11-10", "ends_on": f"{last_year}-11-14",
        "venue": "Hội trường Trung tâm"}, expect=201, what="last year's class is on record")
    lecturers = {s["lecturer_name"]: s["lecturer_id"]  # this run's lecturers (a stack may hold earlier runs' too)
                 for s in await c.get(f"{c.scheduling}/classes/{story.class_id}/sessions")}
    collaborator = await c.post(c.lecturers, {"full_name": "Phạm Văn Cộng", "kind": "collaborator"}, expect=201,
                                what="a collaborator is registered")
    venue = await c.venue("Hội trường A", 120)
    taught = [(10, "07:30", "11:00", lecturers["Nguyễn Thị Hạnh"]), (11, "07:30", "11:00", collaborator["lecturer_id"]),
              (12, "13:30", "16:30", lecturers["Lê Đình Bí"]), (13, "07:30", "11:00", collaborator["lecturer_id"]),
              (14, "07:30", "09:45", collaborator["lecturer_id"])]
    ids = []
    for day, start, end, lecturer in taught:
        s = await c.post(f"{c.scheduling}/classes/{held['class_id']}/sessions", {
            "session_date": f"{last_year}-11-{day}", "starts_at": start, "ends_at": end, "topic": "Điều lệ Đảng",
            "lecturer_id": lecturer, "venue_id": venue["venue_id"]}, expect=201, what="a session of last year's class")
        ids.append(s["session_id"])
    await c.post(f"{c.scheduling}/classes/{held['class_id']}/sessions/{ids[-1]}/cancel", {"reason": "Mưa bão"},
                 what="one session was cancelled")
    report = await c.get(f"{c.scheduling}/lecturer-hours", year=last_year)
    mine = {x["full_name"]: x for x in report["lecturers"]}
    check(mine["Phạm Văn Cộng"]["sessions"] == 2 and float(mine["Phạm Văn Cộng"]["hours"]) == 7.0,
          "the collaborator taught 2 sessions, 7 hours (the cancelled one not counted)")
    for line in report["lecturers"]:
        say(f"{line['full_name']:<18} {line['kind']:<13} {line['sessions']} sessions, {line['hours']} h, "
            f"{line['periods']} periods (tiết)")
    if output is not None:
        r = await c.client.get(f"{c.scheduling}/lecturer-hours", params={"year": last_year, "format": "pdf"})
        check(r.status_code == 200, "the hours report is downloaded as PDF", r)
        (output / "bang-tong-hop-gio-giang.pdf").write_bytes(r.content)
        story.papers.append(output / "bang-tong-hop-gio-giang.pdf")
        say(f"written to {output / 'bang-tong-hop-gio-giang.pdf'}")


async def merge(c: Centre, story: Story, province_admin: dict, today: date) -> None:
    """The 2025 reorganisation, in small: the two communes merge into one from today. Nothing recorded changes;
    their codes are refused from now on, naming the successor; the year's figures read by today's map add up."""
    a, b = story.by_webhook, story.by_email
    successor = {"code": SUCCESSOR["code"] + story.by_webhook["code"][len(ORGANISATION["code"]):],
                 "name": SUCCESSOR["name"]}
    step(f"The map changes: {a['name']} and {b['name']} merge into {successor['name']} from today")
    body = {"predecessor_codes": [a["code"], b["code"]], "successor_code": successor["code"],
            "effective_on": str(today), "decision": {"number": "1686/QĐ-UBND", "signed_on": str(today - timedelta(30))},
            "successor": {"name": successor["name"], "kind": "party-committee", "centre": c.code,
                          "contacts": WEBHOOK_CONTACTS}}
    r = await c.client.post(f"{c.directory}/merges/preview", json=body, headers=province_admin)
    check(r.status_code == 200, "the province admin previews the merge", r)
    for p in r.json()["predecessors"]:
        say(f"preview: {p['name']}: {p['learners']} learners, {p['open_enrolments']} open enrolments, "
            f"{len(p['contacts'])} contacts → {successor['name']}")
    r = await c.client.post(f"{c.directory}/merges", json=body)
    check(r.status_code == 403, "centre staff may not merge organisations", r)
    r = await c.client.post(f"{c.directory}/merges", json=body, headers=province_admin)
    check(r.status_code == 201, "the province admin merges them (decision 1686/QĐ-UBND)", r)
    r = await c.client.post(f"{c.enrolment}/classes/{story.class_id}/enrolments", json={
        "full_name": "Bùi Văn Khoa", "date_of_birth": "1991-03-08", "sending_organisation": {"code": a["code"]}})
    check(r.status_code == 422 and r.json()["successor_code"] == successor["code"],
          f"{a['name']}'s code is refused, naming {successor['name']}", r)
    say(f"an enrolment under {a['code']}: 422 {r.json()['detail_vi']}")

    def rolled_up(f) -> bool:
        return [x["organisation_code"] for x in f["by_organisation"]] == [successor["code"]]

    f = await eventually(lambda: c.client.get(f"{c.assessment}/figures", params={"year": story.year,
                                                                                 "map": "today"}),
                         rolled_up, "the figures by today's map")
    check(f["total"] == story.figures["total"], "the totals read the same by either map")
    [line] = f["by_organisation"]
    say(f"the year's figures by today's map: {line['organisation_name']}: {line['places']} places, "
        f"{line['results']['passed']} passed (as recorded: "
        + "; ".join(f"{x['organisation_name']} {x['places']}" for x in story.figures["by_organisation"]) + ")")


async def merge_centres(c: Centre, story: Story, issuer: LocalIssuer, today: date, suffix: str) -> None:
    """The centres' map changes too: both centres entered in the province's register, Nga Sơn merged into Hậu Lộc
    from today. Nothing either centre recorded changes; Hậu Lộc's staff reach Nga Sơn's classes from now on."""
    admin = issuer.headers("province-admin")
    neighbour = {"code": NEIGHBOUR["code"] + suffix, "name": NEIGHBOUR["name"]}
    step(f"The map of centres changes: {neighbour['name']} merges into {CENTRE_NAME} from today")
    for code, name, body in ((c.code, CENTRE_NAME, "Huyện ủy Hậu Lộc"), (neighbour["code"], neighbour["name"],
                                                                          "Huyện ủy Nga Sơn")):
        r = await c.client.post(c.register, headers=admin, json={
            "code": code, "name": name, "parent_body": body, "effective_on": str(today.replace(month=1, day=1))})
        check(r.status_code == 201, f"{name} is entered in the province's register of centres", r)
    body = {"predecessor_codes": [neighbour["code"]], "successor_code": c.code, "kind": "merged",
            "effective_on": str(today), "decision": {"number": "1703/QĐ-UBND", "signed_on": str(today - timedelta(20))}}
    r = await c.client.post(f"{c.register}/merges/preview", json=body, headers=admin)
    check(r.status_code == 200, "the province admin previews the merge of centres", r)
    for p in [r.json()["successor"], *r.json()["predecessors"]]:
        say(f"preview: {p['code']}: {p['classes']} classes, {p['learners']} learners")
    r = await c.client.post(f"{c.register}/merges", json=body)
    check(r.status_code == 403, "centre staff may not merge centres", r)
    r = await c.client.post(f"{c.register}/merges", json=body, headers=admin)
    check(r.status_code == 201, "the province admin merges them (decision 1703/QĐ-UBND)", r)
    theirs = f"{c.urls['scheduling']}/v1/centres/{neighbour['code']}/classes"
    await eventually(lambda: c.client.get(theirs), lambda found: isinstance(found, list),
                     f"{CENTRE_NAME}'s staff read {neighbour['name']}'s classes")
    say(f"{CENTRE_NAME}'s staff read {neighbour['name']}'s classes: GET /v1/centres/{neighbour['code']}/classes 200")
    r = await c.client.get(theirs, headers=issuer.headers("centre-staff", centre=neighbour["code"]))
    check(r.status_code == 403 and r.json()["successor_code"] == c.code,
          f"a token for {neighbour['name']} alone is refused, naming {CENTRE_NAME}", r)
    say(f"a token for {neighbour['code']} alone: 403 {r.json()['detail_vi']}")
    async with httpx.AsyncClient(timeout=30) as anyone:
        verified = (await anyone.get(f"{c.public}/certificates/{story.certificates[0]['verification_code']}")).json()
    check(verified["genuine"] and verified["centre_name"] == CENTRE_NAME, "a certificate still verifies, naming the "
          "centre that issued it")
    say(f"certificate {verified['certificate_number']}: genuine, issued by {verified['centre_name']}")


async def papers(c: Centre, story: Story, session: str, output: Path) -> None:
    step(f"The class's papers, written to {output}")
    from ttct_dev.paper_checks import pdf_text, xlsx_rows

    output.mkdir(parents=True, exist_ok=True)
    for service, path, name, says in PAPERS:
        base = {"enrolment": c.enrolment, "scheduling": c.scheduling, "assessment": c.assessment}[service]
        fmt = name.rsplit(".", 1)[1]
        r = await c.client.get(f"{base}/classes/{story.class_id}{path.format(session=session)}",
                               params={"format": fmt})
        check(r.status_code == 200, f"{name} is downloaded", r)
        if fmt == "pdf":
            text = pdf_text(r.content)
            learners = [n for n in story.learners if n not in text] if path == "/class-list" else []
            check(says in text and CENTRE_NAME.upper() in text and not learners,
                  f"{name} reads back «{says}» under the centre's heading (missing: {learners})")
        else:
            rows = xlsx_rows(r.content)
            check(says in rows[0] and {x["Họ và tên"] for x in rows} == set(story.learners),
                  f"{name} lists every learner under «{says}»")
        (output / name).write_bytes(r.content)
        story.papers.append(output / name)
        say(f"{name:<40} {len(r.content):>8,} bytes  «{says}»")


async def play(urls: dict[str, str], issuer: LocalIssuer, *, centre: str = CENTRE,
               today: date | None = None, receiver: WebhookReceiver | None = None,
               mailbox: Mailbox | None = None, output: Path | None = None, org_suffix: str = "") -> Story:
    """The whole programme, each call with the token of the actor who makes it. Raises DemoFailed.

    With a `receiver` (a running WebhookReceiver the notification service may reach: WEBHOOK_ALLOW_PRIVATE_TARGETS)
    Hoa Lộc registers a webhook endpoint and its result report must arrive through two failures, as the delivery
    log shows; with a `mailbox` (the SMTP server the notification service sends to) Liên Lộc's report must arrive
    by email with its PDF, saved under `output` if given. `org_suffix` gives the two organisations codes of their
    own (on services other runs share)."""
    today = today or datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    starts = today + timedelta(days=7)
    story = Story(centre=centre, year=starts.year)
    story.by_webhook["code"] += org_suffix
    story.by_email["code"] += org_suffix
    async with httpx.AsyncClient(timeout=60, headers=issuer.headers("centre-staff", centre=centre)) as client:
        c = Centre(urls, client, centre)
        sessions = await plan(c, story, starts)
        await directory(c, story, issuer, receiver)
        await enrol(c, story)
        await attend(c, story, sessions)
        await assess(c, story, None if receiver is None else lambda: quiet(c, story, issuer, receiver))
        if receiver is not None:
            await by_webhook(c, story, issuer, receiver)
        if mailbox is not None:
            await by_email(c, story, issuer, mailbox, output)
        await evaluate(c, story)
        await figures(c, story, issuer.headers("province-admin"))
        if output is not None:
            await papers(c, story, sessions[0], output)
        await teaching_hours(c, story, today, output)
        await merge(c, story, issuer.headers("province-admin"), today)
        await merge_centres(c, story, issuer, today, org_suffix)
    return story


async def _play_and_report(urls: dict[str, str], issuer: LocalIssuer, mailbox: Mailbox, output: Path) -> bool:
    receiver = await WebhookReceiver().start()
    try:
        story = await play(urls, issuer, receiver=receiver, mailbox=mailbox, output=output)
    except DemoFailed as failed:
        print(f"\nFAIL: {failed}")
        return False
    finally:
        await receiver.stop()
    print("\nPASS: a whole programme, from the plan to the year's figures; the result report reached "
          f"{story.by_webhook['name']} by webhook (after {len(FAIL_WITH)} failed attempts) and "
          f"{story.by_email['name']} by email, its PDF saved in {output} with the class's papers; then the two "
          f"communes merged into {SUCCESSOR['name']}, and {NEIGHBOUR['name']} into {CENTRE_NAME}")
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ttct_dev.programme_demo", description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=Path("demo-output"),
                        help="the folder the emailed result report (PDF) and the class's papers are saved to "
                             "(default ./demo-output/)")
    output = parser.parse_args(argv).output.resolve()
    print(f"Emailed reports are saved to {output}")
    env = {"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",  # the receiver runs on loopback
           "WEBHOOK_RETRY_SCHEDULE": RETRY_SCHEDULE,
           "CENTRES": json.dumps({CENTRE: CENTRE_PROFILE}, ensure_ascii=False)}
    # the stack, the SMTP server and the services start outside the event loop (the services run their own short
    # loops to provision; the mailbox runs in a thread of its own)
    with tempfile.TemporaryDirectory(prefix="ttct-programme-demo-") as tmp, Mailbox() as mailbox:
        issuer = LocalIssuer(Path(tmp))
        with LocalStack(Path(tmp) / "stack", durable=False) as stack, \
                Services(stack.start(), issuer, log_dir=Path(tmp), env={**env, **mailbox.env}) as services:
            print(f"SMTP server (aiosmtpd) on {mailbox.host}:{mailbox.port}; services' logs in {tmp}")
            ok = asyncio.run(_play_and_report(services.urls, issuer, mailbox, output))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
