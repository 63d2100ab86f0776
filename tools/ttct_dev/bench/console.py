"""Scenario 7: the centre's staff working at once through the web console.

Each staff member signs in as a browser does (the console's /sign-in, the local OpenID Connect provider's page,
the form posted, back to the console with a session cookie), then works through their own class again and again:
the class list, the class's page, a session's attendance form and its save, the score grid and its save. Every
response is timed twice: by the console itself (its Server-Timing header: the server's time for the page, what the
target is about) and from the request's start to its last byte as the staff member's client saw it (loopback, so
that adds the load generator's own delays on the shared cores); its size is counted before compression.
"""
from __future__ import annotations

import asyncio
import os
import random
import re
import time
from dataclasses import dataclass, field

import httpx

from ttct_dev.bench.harness import Bench
from ttct_dev.bench.load import FAMILY, GIVEN, MIDDLE
from ttct_dev.bench.measure import percentile
from ttct_dev.console import Console
from ttct_dev.directory import register_organisations

CENTRE, STAFF_ACCOUNT, ORGANISATION = "hau-loc", "canbo.hauloc", "xa-bench-console"
PAGES = ("class_list", "class_page", "attendance_form", "attendance_save", "scores_form", "scores_save")
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@dataclass(frozen=True)
class ConsoleSizes:
    staff: int = 20
    rounds: int = 10
    learners: int = 60
    think: float = 2.0
    """mean seconds a person spends on a page before the next request (reading it, filling the form in): drawn
    between half and one and a half of it; 0: none, every staff member's requests back to back (a stress test)"""

    @property
    def label(self) -> str:
        pause = f"{self.think:g} s on each page" if self.think else "no pause between pages"
        return f"7 console: {self.staff} staff at once, {pause}"


@dataclass
class Timings:
    ms: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PAGES})
    client_ms: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PAGES})
    kb: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PAGES})
    sign_in_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _hidden(page: str) -> dict[str, str]:
    return dict(_HIDDEN.findall(page))


async def _class_for(bench: Bench, http: httpx.AsyncClient, k: int, learners: int, tag: str) -> dict[str, str]:
    """One staff member's class: open, `learners` enrolled from an organisation's list, one session held."""
    scheduling = f"{bench.urls['scheduling']}/v1/centres/{CENTRE}"
    r = await http.post(f"{scheduling}/classes", json={
        "programme_type": "dang_vien_moi", "title": f"Lớp bồi dưỡng đảng viên mới {tag}-{k}", "capacity": learners,
        "starts_on": "2027-03-01", "ends_on": "2027-03-20", "venue": "Hội trường Trung tâm"})
    r.raise_for_status()
    class_id = r.json()["class_id"]
    rows = [{"full_name": f"{FAMILY[i % 10]} {MIDDLE[(i + k) % 6]} {GIVEN[i % 13]}",
             "date_of_birth": f"19{70 + i % 30}-0{1 + i % 9}-1{i % 9}", "national_id": bench.national_id()}
            for i in range(learners)]
    batch = f"{bench.urls['enrolment']}/v1/centres/{CENTRE}/classes/{class_id}/enrolments/batch"
    for _ in range(200):  # enrolment hears of the class from scheduling's event
        r = await http.post(batch, json={"rows": rows, "sending_organisation": {
            "code": ORGANISATION, "name": "Đảng ủy xã (đo tải bảng điều khiển)"}})
        if r.status_code != 409:
            break
        await asyncio.sleep(0.05)
    r.raise_for_status()
    r = await http.post(f"{bench.urls['scheduling']}/v1/lecturers", json={
        "full_name": f"Lê Văn Giảng {tag}-{k}", "kind": "collaborator"})  # one each: no two sessions clash
    r.raise_for_status()
    r = await http.post(f"{scheduling}/classes/{class_id}/sessions", json={
        "session_date": "2027-03-02", "starts_at": "07:30", "ends_at": "11:00", "topic": "Nghị quyết Đại hội Đảng",
        "lecturer_id": r.json()["lecturer_id"], "field_trip_site": "Khu di tích lịch sử"})
    r.raise_for_status()
    session_id = r.json()["session_id"]
    sheet = f"{bench.urls['assessment']}/v1/centres/{CENTRE}/classes/{class_id}/attendance"
    for _ in range(600):  # assessment hears of the learners from enrolment's events
        r = await http.get(sheet)
        if r.status_code == 200 and len(r.json()) == learners:
            break
        await asyncio.sleep(0.05)
    return {"class_id": class_id, "session_id": session_id}


async def _sign_in(console: Console, browser: httpx.AsyncClient, t: Timings, attempts: int = 3) -> None:
    """As a person would: a sign-in that fails (e.g. the console gave up waiting for a service) is tried again,
    and counted as an error."""
    for _ in range(attempts):
        started = time.perf_counter()
        page = await browser.get(f"{console.url}/sign-in?next=/classes", follow_redirects=True)  # the provider's
        form = {**_hidden(page.text), "username": STAFF_ACCOUNT, "password": "demo"}
        done = await browser.post(f"{console.oidc_url}/authorize", data=form, follow_redirects=True)
        if done.status_code == 200 and str(done.url) == f"{console.url}/classes":
            t.sign_in_ms.append((time.perf_counter() - started) * 1000)
            return
        t.errors.append(f"sign_in: {done.status_code}")
    raise RuntimeError(f"signing in ended at {done.url} ({done.status_code}) {attempts} times")


async def _time(t: Timings, page: str, call) -> httpx.Response:
    started = time.perf_counter()
    r = await call()
    t.client_ms[page].append((time.perf_counter() - started) * 1000)
    t.ms[page].append(float(r.headers["server-timing"].partition(";dur=")[2]))
    t.kb[page].append(len(r.content) / 1024)
    if r.status_code not in (200, 303):
        t.errors.append(f"{page}: {r.status_code}")
    return r


async def _work(console: Console, mine: dict[str, str], sizes: ConsoleSizes, t: Timings, seed: int) -> None:
    chance = random.Random(seed)

    async def _timed(page: str, call) -> httpx.Response:
        if sizes.think:
            await asyncio.sleep(chance.uniform(sizes.think / 2, sizes.think * 1.5))
        return await _time(t, page, call)

    async with httpx.AsyncClient(timeout=60) as browser:
        await _sign_in(console, browser, t)
        klass = f"{console.url}/classes/{mine['class_id']}"
        attendance = f"{klass}/sessions/{mine['session_id']}/attendance"
        for n in range(sizes.rounds):
            await _timed("class_list", lambda: browser.get(f"{console.url}/classes"))
            await _timed("class_page", lambda: browser.get(klass))
            form = await _timed("attendance_form", lambda: browser.get(attendance))
            marks = {f"mark-{learner}": ("present", "absent", "excused")[(i + n) % 3 if i % 7 == 0 else 0]
                     for i, learner in enumerate(re.findall(r'name="mark-([0-9a-f-]{36})"', form.text))}
            await _timed("attendance_save", lambda: browser.post(attendance, data={**_hidden(form.text), **marks}))
            grid = await _timed("scores_form", lambda: browser.get(f"{klass}/scores"))
            scores = {f"score-{learner}": f"{5 + (i + n) % 50 / 10:.1f}".replace(".", ",")
                      for i, learner in enumerate(re.findall(r'name="score-([0-9a-f-]{36})"', grid.text))}
            await _timed("scores_save",
                         lambda: browser.post(f"{klass}/scores", data={**_hidden(grid.text), **scores}))


async def staff_at_once(bench: Bench, console: Console, sizes: ConsoleSizes, notes: list[str]) -> dict[str, float]:
    """`sizes.staff` people at once, each on their own class, `sizes.rounds` rounds of the six pages each."""
    tag = bench.tag()
    async with httpx.AsyncClient(timeout=60, headers=bench.issuer.headers("centre-staff", centre=CENTRE)) as http:
        await register_organisations(http, bench.urls["enrolment"], {ORGANISATION: "Đảng ủy xã (đo tải)"},
                                     centre=CENTRE)
        classes = await asyncio.gather(*[_class_for(bench, http, k, sizes.learners, tag) for k in range(sizes.staff)])
    t = Timings()
    load_before, started = os.getloadavg()[0], time.perf_counter()
    await asyncio.gather(*[_work(console, mine, sizes, t, k) for k, mine in enumerate(classes)])
    seconds = time.perf_counter() - started
    # the machine's other work shows in these figures: say how busy it was (this run's own load included)
    run = 1 + sum(n.startswith("run ") for n in notes)
    notes.append(f"run {run}: load average (1 min) {load_before:.1f} before the staff started, "
                 f"{os.getloadavg()[0]:.1f} when they had finished ({os.cpu_count()} cores)")
    note = (f"{sizes.staff} staff of one centre at once, each signed in through the local OpenID Connect provider "
            f"and working on a class of {sizes.learners} learners: {sizes.rounds} rounds of the class list, the "
            "class, the attendance form and its save, the score grid and its save (saves answer 303); "
            + (f"{sizes.think:g} s on average (from half to one and a half of it) on each page before the next "
               "request, as a person reads it or fills it in" if sizes.think else
               "no pause: each staff member's requests back to back (a stress test, not people)"))
    if note not in notes:
        notes.append(note)
    out: dict[str, float] = {"staff_count": sizes.staff, "learners_per_class_count": sizes.learners,
                             "pages_count": sum(len(v) for v in t.ms.values()),
                             "pages_per_s": round(sum(len(v) for v in t.ms.values()) / seconds, 1),
                             "errors_count": len(t.errors),
                             "sign_in_p95_ms": round(percentile(t.sign_in_ms, 95), 1)}
    for page in PAGES:
        out[f"{page}_p50_ms"] = round(percentile(t.ms[page], 50), 1)
        out[f"{page}_p95_ms"] = round(percentile(t.ms[page], 95), 1)
        out[f"{page}_client_p95_ms"] = round(percentile(t.client_ms[page], 95), 1)
        out[f"{page}_max_kb"] = round(max(t.kb[page]), 1)
    out["worst_page_p95_ms"] = max(out[f"{p}_p95_ms"] for p in PAGES)
    out["largest_page_kb"] = max(out[f"{p}_max_kb"] for p in PAGES)
    if t.errors:
        kinds = sorted({e: t.errors.count(e) for e in t.errors}.items())
        notes.append("errors (page: status × count): " + ", ".join(f"{e} × {n}" for e, n in kinds))
    return out
