"""Driving the public HTTP API as the centres' staff do: open classes, enrol learners, record scores.

Every request is timed on the wall clock (`time.time()`), the clock PostgreSQL's commit timestamps use, so a
request's start and the commit of the projection row it caused can be subtracted.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from ttct_dev.bench.harness import Bench
from ttct_dev.bench.wire import WireError
from ttct_dev.directory import register_organisations

FAMILY = ["Nguyễn", "Lê", "Trần", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đình", "Hữu", "Minh", "Thu"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Long", "Mai", "Nam", "Ngọc", "Phương"]
RETRYABLE = ("class-unknown", "learner-not-in-class", "concurrency-conflict")


@dataclass(frozen=True)
class Seat:
    """Where one enrolment goes: a class of a centre, for a sending organisation."""

    centre: str
    class_id: str
    organisation: str


@dataclass
class Sent:
    """One request: when it was meant to start, when it started and ended (epoch s), what came back."""

    intended: float
    started: float
    ended: float
    status: int
    learner_id: str | None = None
    seat: Seat | None = None


@dataclass
class Tally:
    sent: list[Sent] = field(default_factory=list)
    retries: int = 0

    @property
    def ok(self) -> list[Sent]:
        return [s for s in self.sent if 200 <= s.status < 300]

    @property
    def errors(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for s in self.sent:
            if not 200 <= s.status < 300:
                out[s.status] = out.get(s.status, 0) + 1
        return out


async def _until_known(call, tally: Tally, attempts: int = 100):
    """A command about something another service has not heard of yet answers 404/409: retry briefly."""
    for _ in range(attempts):
        response = await call()
        if response.status_code not in (404, 409) or response.json().get("type", "").split(":")[-1] not in RETRYABLE:
            return response
        tally.retries += 1
        await asyncio.sleep(0.05)
    return response


async def open_classes(bench: Bench, centres: list[str], per_centre: int, capacity: int, tag: str,
                       concurrency: int = 16, wait: bool = True) -> list[tuple[str, str]]:
    """Open `per_centre` classes in each centre; with `wait`, until enrolment has heard of all of them."""
    gate = asyncio.Semaphore(concurrency)

    async def one(centre: str, k: int) -> tuple[str, str]:
        async with gate:
            r = await bench.http.post(f"{bench.urls['scheduling']}/v1/centres/{centre}/classes", json={
                "programme_type": "trien_khai_nghi_quyet", "title": f"Lớp triển khai nghị quyết {tag}-{k}",
                "capacity": capacity, "starts_on": "2026-12-01", "ends_on": "2026-12-02",
                "venue": "Hội trường Trung tâm Chính trị"})
            r.raise_for_status()
            return centre, r.json()["class_id"]

    classes = await asyncio.gather(*[one(c, k) for k in range(per_centre) for c in centres])
    if wait:
        await classes_known(bench, [c for _, c in classes])
    return classes


async def classes_known(bench: Bench, class_ids: list[str], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while await bench.pools["enrolment"].fetchval(
            "SELECT count(*) FROM classes WHERE class_id = ANY($1::uuid[])", class_ids) < len(class_ids):
        if time.monotonic() > deadline:
            raise TimeoutError("enrolment has not heard of the classes opened")
        await asyncio.sleep(0.05)


async def register(bench: Bench, organisations: list[str], centre: str) -> None:
    """Put the measurement's organisations in the province's directory: enrolment refuses codes it does not know."""
    await register_organisations(bench.http, bench.urls["enrolment"], {o: f"Đảng ủy {o}" for o in organisations},
                                 centre=centre)


def enrolment_body(bench: Bench, i: int, organisation: str) -> dict:
    return {"full_name": f"{FAMILY[i % 10]} {MIDDLE[i % 6]} {GIVEN[i % 13]}",
            "date_of_birth": f"19{70 + i % 30}-0{1 + i % 9}-1{i % 9}",
            "sending_organisation": {"code": organisation, "name": f"Đảng ủy {organisation}"},
            "national_id": bench.national_id()}


async def enrol(bench: Bench, seat: Seat, i: int, intended: float, tally: Tally) -> Sent:
    body = enrolment_body(bench, i, seat.organisation)
    path = f"/v1/centres/{seat.centre}/classes/{seat.class_id}/enrolments"
    started = time.time()
    try:
        r = await _until_known(lambda: bench.wires["enrolment"].post(path, body), tally)
        status, learner = r.status_code, (r.json().get("learner_id") if r.status_code == 201 else None)
    except (OSError, EOFError, WireError):
        status, learner = 599, None
    sent = Sent(intended, started, time.time(), status, learner, seat)
    tally.sent.append(sent)
    return sent


async def record_score(bench: Bench, seat: Seat, learner_id: str, i: int, tally: Tally) -> Sent:
    path = f"/v1/centres/{seat.centre}/classes/{seat.class_id}/scores"
    body = {"learner_id": learner_id, "score": round(4.0 + (i * 37 % 61) / 10, 1)}
    started = time.time()
    try:
        r = await _until_known(lambda: bench.wires["assessment"].post(path, body), tally)
        status = r.status_code
    except (OSError, EOFError, WireError):
        status = 599
    sent = Sent(started, started, time.time(), status, learner_id, seat)
    tally.sent.append(sent)
    return sent


async def closed_loop(bench: Bench, seats: list[Seat], concurrency: int) -> Tally:
    """Enrol one learner per seat, `concurrency` requests in flight at all times (each worker waits for its
    answer before sending the next)."""
    tally, queue = Tally(), iter(enumerate(seats))

    async def worker() -> None:
        for i, seat in queue:
            await enrol(bench, seat, i, time.time(), tally)

    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return tally


async def open_loop(bench: Bench, seats: list[Seat], rate: float, max_in_flight: int = 64) -> Tally:
    """Enrol one learner per seat at a fixed offered rate, whether or not earlier requests have answered.

    Request i is due at start + i/rate; latency is counted from that due time, so a slow server (or a late load
    generator) cannot hide queueing delay (no coordinated omission). At most `max_in_flight` requests are on the
    wire; the others queue here (their wait counts): thousands of requests waiting inside httpx's pool cost the
    load generator a whole core (its pool scans its waiters), which would starve the services it measures."""
    tally, tasks, gate = Tally(), [], asyncio.Semaphore(max_in_flight)

    async def due_request(seat: Seat, i: int, due: float) -> None:
        async with gate:
            await enrol(bench, seat, i, due, tally)

    start_wall, start = time.time(), time.monotonic()
    for i, seat in enumerate(seats):
        due = i / rate
        if (ahead := due - (time.monotonic() - start)) > 0.0005:
            await asyncio.sleep(ahead)
        tasks.append(asyncio.create_task(due_request(seat, i, start_wall + due)))
    await asyncio.gather(*tasks)
    return tally


def seats_for(classes: list[tuple[str, str]], n: int, organisations: list[str]) -> list[Seat]:
    """n seats spread round-robin over the classes and the organisations."""
    return [Seat(classes[i % len(classes)][0], classes[i % len(classes)][1], organisations[i % len(organisations)])
            for i in range(n)]
