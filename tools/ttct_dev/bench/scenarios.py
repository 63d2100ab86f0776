"""Scenarios 1, 2 and 4 of issue 6: single commands, bulk, growth. Each function is one run and returns its
figures by name; the name's suffix is its unit (`_per_s`, `_ms`, `_s`, `_count`).
"""
from __future__ import annotations

import asyncio
import math
import re
import time
import uuid
from dataclasses import dataclass

import httpx

from ttct_dev.bench.harness import Bench
from ttct_dev.bench.load import (Seat, Sent, Tally, _until_known, closed_loop, enrol, enrolment_body, open_classes,
                                 open_loop, record_score, register, seats_for)
from ttct_dev.bench.measure import caught_up, events_stored, lag, percentile, projected

MAX_CAPACITY = 5000  # ClassOpened.capacity's bound


@dataclass(frozen=True)
class SingleSizes:
    requests: int = 20_000
    concurrency: int = 32
    rate: float = 1000.0
    seconds: float = 20.0
    classes_per_centre: int = 4


class Waits:
    """The catch-up waits of one run: lag left over from earlier runs does not count, and what is still not
    caught up after the timeout is reported (as `stalled_count` and a note) instead of failing the run."""

    def __init__(self, bench: Bench, timeout: float, notes: list[str]) -> None:
        self.bench, self.timeout, self.notes, self.stalled = bench, timeout, notes, {}
        self.baseline: dict[str, int] = {}

    async def start(self) -> None:
        self.baseline = await lag(self.bench)

    async def caught_up(self) -> float:
        at, left = await caught_up(self.bench, timeout=self.timeout, baseline=self.baseline)
        if left:
            _note(self.notes, f"consumers had NOT caught up {self.timeout:.0f} s after the last request "
                              f"(messages still pending or unacked: {left}); the run's times end at the timeout")
            for k, v in left.items():
                self.stalled[k] = max(self.stalled.get(k, 0), v)
        return at

    def figures(self) -> dict[str, float]:
        return {"stalled_count": sum(self.stalled.values())}


def _ms(seconds: list[float], q: float) -> float:
    return round(percentile(seconds, q) * 1000, 1)


async def single_commands(bench: Bench, sizes: SingleSizes, centres: int, timeout: float,
                          notes: list[str]) -> dict[str, float]:
    """Enrolments through HTTP: closed loop at a fixed concurrency, then open loop at a fixed offered rate.

    Latency = commit time of notification's organisation_learners row - the request's start (closed loop) or
    due time (open loop). Pipeline throughput = enrolments / (last projection commit - first request start)."""
    tag = bench.tag()
    codes = bench.centre_codes(centres)
    open_n = int(sizes.rate * sizes.seconds)
    # seats for every request of both loops: a learner put on a waiting list never shows as enrolled downstream
    per_centre = max(sizes.classes_per_centre, math.ceil((sizes.requests + open_n) / centres / MAX_CAPACITY))
    capacity = min(MAX_CAPACITY, math.ceil((sizes.requests + open_n) / (centres * per_centre)) + 1)
    waits = Waits(bench, timeout, notes)
    await waits.start()
    classes = await open_classes(bench, codes, per_centre, capacity, tag)
    await waits.caught_up()
    out = {"store_events_count": await events_stored(bench), "centres_count": centres, "classes_count": len(classes)}

    orgs = [f"{tag}-c{k}" for k in range(10)]
    await register(bench, orgs, codes[0])
    tally = await closed_loop(bench, seats_for(classes, sizes.requests, orgs), sizes.concurrency)
    out |= _figures("closed", tally, await projected(bench, orgs, len(tally.ok), timeout=timeout), by="started")
    await waits.caught_up()

    orgs = [f"{tag}-o{k}" for k in range(10)]
    await register(bench, orgs, codes[0])
    tally = await open_loop(bench, seats_for(classes, open_n, orgs), sizes.rate)
    out |= _figures("open", tally, await projected(bench, orgs, len(tally.ok), timeout=timeout), by="intended")
    out["open_offered_per_s"] = sizes.rate
    out["open_generator_late_p99_ms"] = _ms([s.started - s.intended for s in tally.sent], 99)
    await waits.caught_up()
    return out | waits.figures()


def _figures(prefix: str, tally: Tally, done: dict[str, float], *, by: str) -> dict[str, float]:
    ok = tally.ok
    first = min(getattr(s, by) for s in tally.sent)
    latencies = [done[s.learner_id] - getattr(s, by) for s in ok if s.learner_id in done]
    http = [s.ended - getattr(s, by) for s in ok]
    last_answer = max(s.ended for s in tally.sent)
    return {
        f"{prefix}_pipeline_per_s": round(len(done) / (max(done.values()) - first), 1) if done else 0.0,
        f"{prefix}_http_per_s": round(len(ok) / (last_answer - first), 1),
        f"{prefix}_to_projection_p50_ms": _ms(latencies, 50),
        f"{prefix}_to_projection_p99_ms": _ms(latencies, 99),
        f"{prefix}_to_projection_max_ms": _ms(latencies, 100),
        f"{prefix}_http_p50_ms": _ms(http, 50),
        f"{prefix}_http_p99_ms": _ms(http, 99),
        f"{prefix}_errors_count": len(tally.sent) - len(ok),
        f"{prefix}_not_projected_count": len(ok) - len(latencies),
    }


# --- scenario 2: bulk -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BulkSizes:
    org_list: int = 2_000
    centres: int = 27
    classes: int = 1_500
    enrolments: int = 200_000
    concurrency: int = 64
    batch: int = 500


async def bulk_path(bench: Bench, service: str, resource: str) -> str | None:
    """The path template of a batch endpoint for `resource` (e.g. '…/enrolments:batch'), if the service has one."""
    r = await bench.http.get(f"{bench.urls[service]}/openapi.json")
    found = [path for path, ops in r.json().get("paths", {}).items()
             if "post" in ops and re.search(rf"{resource}(:|/)(batch|bulk|import)$", path)]
    # a JSON batch before a file upload
    return next((p for p in found if p.endswith("batch")), found[0] if found else None)


def list_row(body: dict) -> dict:
    """A single command's body as a row of enrolment's JSON batch (the columns of an organisation's list)."""
    organisation = body["sending_organisation"]
    return {"full_name": body["full_name"], "date_of_birth": body["date_of_birth"],
            "national_id": body["national_id"], "organisation_code": organisation["code"],
            "organisation_name": organisation["name"]}


class BulkRefused(Exception):
    pass


async def send_bulk(bench: Bench, service: str, path: str, key: str, seats: list[Seat], rows: list[dict],
                     batch: int, concurrency: int) -> None:
    """Post rows grouped by (centre, class) in chunks of `batch`, as {"<key>": [...]}. An assumption about the
    request shape, made before the endpoint existed: a 4xx on the first chunk means it is not this shape."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for seat, row in zip(seats, rows, strict=True):
        groups.setdefault((seat.centre, seat.class_id), []).append(row)
    chunks = [(c, k, g[i:i + batch]) for (c, k), g in groups.items() for i in range(0, len(g), batch)]
    gate = asyncio.Semaphore(concurrency)

    async def one(centre: str, class_id: str, chunk: list[dict]) -> None:
        async with gate:
            url = bench.urls[service] + path.replace("{centre}", centre).replace("{class_id}", class_id)
            # As the integrating systems do: a network error is retried with the same Idempotency-Key, so the
            # rows are stored once (e.g. a pooled keep-alive connection the server closed while idle between
            # phases answers the next request with a ReadError).
            headers = {"Idempotency-Key": str(uuid.uuid4())}
            for attempt in range(3):
                try:
                    r = await bench.http.post(url, json={key: chunk}, headers=headers)
                    break
                except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError):
                    if attempt == 2:
                        raise
            if not 200 <= r.status_code < 300:
                raise BulkRefused(f"POST {path} answered {r.status_code}: {r.text[:300]}")

    await one(*chunks[0])
    await asyncio.gather(*[one(*c) for c in chunks[1:]])


async def enrol_many(bench: Bench, seats: list[Seat], sizes: BulkSizes, notes: list[str]) -> Tally | None:
    """Through the batch endpoint if there is one (None returned), else one command per learner (a Tally)."""
    path = await bulk_path(bench, "enrolment", "enrolments")
    if path:
        rows = [list_row(enrolment_body(bench, i, s.organisation)) for i, s in enumerate(seats)]
        try:
            await send_bulk(bench, "enrolment", path, "rows", seats, rows, sizes.batch, sizes.concurrency)
            _note(notes, f"enrolments through the batch endpoint POST {path}, {sizes.batch} rows a request")
            return None
        except BulkRefused as exc:
            _note(notes, f"batch endpoint {path} found but refused the assumed shape ({exc}); measured the "
                         "single-command path instead")
    else:
        _note(notes, "NO BULK ENDPOINT for enrolments yet: measured the single-command path (POST …/enrolments, "
                     f"one learner a request, {sizes.concurrency} in flight) at the bulk sizes")
    tally, queue = Tally(), iter(enumerate(seats))

    async def worker() -> None:
        for i, seat in queue:
            await enrol(bench, seat, i, time.time(), tally)

    await asyncio.gather(*[worker() for _ in range(sizes.concurrency)])
    return tally


async def score_many(bench: Bench, learners: list[tuple[Seat, str]], sizes: BulkSizes, notes: list[str]) -> Tally:
    """Every learner's score, then every class finalised (a final grade for each learner, certificates for those
    who passed). Scores go through assessment's batch route, one class's grid a request (as the console's score
    grid sends them), else one request each; each class is finalised as soon as its scores are stored."""
    path = await bulk_path(bench, "assessment", "scores")
    classes: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for i, (seat, learner) in enumerate(learners):
        classes.setdefault((seat.centre, seat.class_id), []).append((i, learner))
    if path:
        _note(notes, f"scores through the batch route POST {path}, one class's grid a request (up to "
                     f"{sizes.batch} learners), then POST …/finalisation for the class")
    else:
        _note(notes, "NO BULK ENDPOINT for scores yet: measured the single-command path (POST …/scores), then "
                     "POST …/finalisation for each class")
    tally, gate = Tally(), asyncio.Semaphore(sizes.concurrency)

    async def post(url: str, body: dict | None) -> int:
        headers = {"Idempotency-Key": str(uuid.uuid4())}  # retried as the integrating systems do: stored once
        for attempt in range(3):
            try:
                r = await _until_known(lambda: bench.http.post(url, json=body, headers=headers), tally)
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError):
                if attempt == 2:
                    return 599
                continue
            if not 200 <= r.status_code < 300:  # say what was refused: the run's note names it
                kind = r.json().get("type", "").split(":")[-1] if r.headers.get("content-type", "").endswith(
                    "json") else ""
                _note(notes, f"refused: POST …/{url.rsplit('/', 1)[-1]} answered {r.status_code} {kind}".rstrip())
            return r.status_code

    async def one_class(centre: str, class_id: str, grid: list[tuple[int, str]]) -> None:
        base = f"{bench.urls['assessment']}/v1/centres/{centre}/classes/{class_id}"
        async with gate:
            started = time.time()
            if path:
                for k in range(0, len(grid), sizes.batch):
                    chunk = [{"learner_id": learner, "score": round(4.0 + (i * 37 % 61) / 10, 1)}
                             for i, learner in grid[k:k + sizes.batch]]
                    status = await post(f"{base}/scores/batch", {"scores": chunk})
                    tally.sent.append(Sent(started, started, time.time(), status, None, Seat(centre, class_id, "")))
            else:
                for i, learner in grid:
                    await record_score(bench, Seat(centre, class_id, ""), learner, i, tally)
            status = await post(f"{base}/finalisation", None)
            tally.sent.append(Sent(started, started, time.time(), status, None, Seat(centre, class_id, "")))

    await asyncio.gather(*[one_class(c, k, grid) for (c, k), grid in classes.items()])
    return tally


def _note(notes: list[str], note: str) -> None:
    if note not in notes:
        notes.append(note)


async def org_list(bench: Bench, sizes: BulkSizes, timeout: float, notes: list[str]) -> dict[str, float]:
    """One organisation's list into one class: from the first request until every consumer has caught up."""
    tag = bench.tag()
    waits = Waits(bench, timeout, notes)
    await waits.start()
    classes = await open_classes(bench, bench.centre_codes(1), 1, min(MAX_CAPACITY, sizes.org_list), tag)
    await waits.caught_up()
    await register(bench, [f"{tag}-list"], classes[0][0])
    seats = seats_for(classes, sizes.org_list, [f"{tag}-list"])
    start = time.time()
    tally = await enrol_many(bench, seats, sizes, notes)
    stored = time.time() if tally is None else max(s.ended for s in tally.sent)
    # notification applies the list last of the consumers as a rule (a notice per learner besides the row)
    held = await projected(bench, [f"{tag}-list"], sizes.org_list, timeout=timeout)
    done = await waits.caught_up()
    out = waits.figures() | {"list_rows_count": sizes.org_list, "list_stored_s": round(stored - start, 2),
           "list_notification_s": round(max(held.values()) - start, 2) if held else 0.0,
           "list_caught_up_s": round(done - start, 2), "list_per_s": round(sizes.org_list / (done - start), 1)}
    if tally is not None:
        out["list_errors_count"] = len(tally.sent) - len(tally.ok)
    return out


async def province_year(bench: Bench, sizes: BulkSizes, timeout: float, notes: list[str]) -> dict[str, float]:
    """A province's year: open the classes, enrol everyone, record every score and finalise every class; each
    phase timed from its first request until every consumer has caught up, and the whole from the first class
    opened."""
    tag = bench.tag()
    codes = bench.centre_codes(sizes.centres)
    per_centre = math.ceil(sizes.classes / sizes.centres)
    capacity = min(MAX_CAPACITY, math.ceil(sizes.enrolments / (per_centre * sizes.centres)) + 1)
    waits = Waits(bench, timeout, notes)
    await waits.start()
    start = time.time()
    classes = (await open_classes(bench, codes, per_centre, capacity, tag, wait=False))[:sizes.classes]
    opened = await waits.caught_up()
    orgs = [f"{tag}-org{k}" for k in range(200)]
    await register(bench, orgs, codes[0])
    seats = seats_for(classes, sizes.enrolments, orgs)
    enrol_start = time.time()
    tally = await enrol_many(bench, seats, sizes, notes)
    enrolled = await waits.caught_up()
    rows = await bench.pools["enrolment"].fetch(
        "SELECT centre, class_id::text, learner_id::text, organisation_code FROM enrolments"
        " WHERE class_id = ANY($1::uuid[])", [c for _, c in classes])
    learners = [(Seat(r["centre"], r["class_id"], r["organisation_code"]), r["learner_id"]) for r in rows]
    score_start = time.time()
    scores = await score_many(bench, learners, sizes, notes)
    done = await waits.caught_up()
    out = waits.figures() | {
        "year_classes_count": len(classes), "year_enrolments_count": len(rows),
        "year_total_s": round(done - start, 2),
        "year_open_classes_s": round(opened - start, 2),
        "year_enrol_s": round(enrolled - enrol_start, 2),
        "year_enrol_per_s": round(len(rows) / (enrolled - enrol_start), 1),
        "year_score_s": round(done - score_start, 2),
        "year_score_per_s": round(len(learners) / (done - score_start), 1),
        "year_score_errors_count": len(scores.sent) - len(scores.ok),
        "year_retries_count": scores.retries + (tally.retries if tally else 0),
    }
    if tally is not None:
        out["year_enrol_errors_count"] = len(tally.sent) - len(tally.ok)
    return out
