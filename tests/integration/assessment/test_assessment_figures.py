"""The figures projection fed through the real path: scheduling's and enrolment's envelopes published to JetStream
and applied by assessment's consumer handlers (the facts' and the figures', chained as the service wires them),
assessment's own results appended through finalisation's `commit` on the service's projecting event store; then a
rebuild from the streams and the store gives the same figures.

The seed's figure is the test: a year of Hậu Lộc, 58 classes and 6,500 learner places, reads back exactly.
"""
import asyncio
import contextlib
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from assessment.adapters import facts
from assessment.bootstrap import SCHEMA, projections
from assessment.figures import Projecting, chained, rebuild, tables, tally
from assessment.service_layer.together import commit
from nats.js.api import AckPolicy, ConsumerConfig
from ttct.contracts import ClassOpened, EventMetadata, LearnerEnrolled
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.contracts.learner_result_finalised import LearnerResultFinalised
from ttct.contracts.learner_withdrawn import LearnerWithdrawn
from ttct.eventsourcing.consumer import ProjectionRunner
from ttct.eventsourcing.eventstore import EventStore, make_envelopes
from ttct.eventsourcing.topology import ensure_stream
from ttct.operations.schema import migrate
from ttct.privacy.personal import KeyRing, KeyVault, legacy_sealed

pytestmark = pytest.mark.integration

CENTRE = "hau-loc"
YEAR = 2024
PROGRAMMES = ["so_cap_llct", "ket_nap_dang", "dang_vien_moi", "chuyen_de", "nghiep_vu", "quoc_phong_an_ninh",
              "ky_nang", "trien_khai_nghi_quyet", "can_bo_nguon"]
ORGS = [{"code": f"org-{i:02}", "name": f"Đảng ủy xã số {i}"} for i in range(20)]
AT = datetime(2024, 1, 10, 2, tzinfo=UTC)


@pytest.fixture
async def figures(pool, nc, province):
    """Assessment's schema; on each stream it reads, a durable of this test's own (filtered to this test's province)
    applied by the service's chained handlers in a background loop; its projecting event store."""
    await migrate(pool, SCHEMA)
    ring = KeyRing(KeyVault(pool))
    await ring.vault.migrate()
    js = nc.jetstream()
    handlers = chained(projections(ring))
    tasks = []
    for context, stream in (("scheduling", "SCHEDULING"), ("enrolment", "ENROLMENT")):
        await ensure_stream(js, context)
        durable = f"figures-test-{uuid.uuid4().hex[:8]}"
        await js.add_consumer(stream, ConsumerConfig(durable_name=durable, filter_subject=f"ttct.{province}.>",
                                                     ack_policy=AckPolicy.EXPLICIT, ack_wait=30.0))
        runner, sub = ProjectionRunner(pool, durable, handlers[context]), await js.pull_subscribe_bind(durable, stream)
        tasks.append(asyncio.create_task(consume(runner, sub)))
    yield js, Projecting(EventStore(pool))
    for task in tasks:
        task.cancel()
    # a cancel can be swallowed inside nats-py's wait_for on Python 3.11: never wait for these forever
    await asyncio.wait(tasks, timeout=5)


async def consume(runner, sub):
    while True:
        with contextlib.suppress(TimeoutError):
            await runner.handle_batch(await sub.fetch(200, timeout=0.5))


async def finalise(store, stream, events, at, expected):
    """What finalisation and a re-sit do: `commit` the decision, projecting nothing else (the store projects)."""
    async def nothing(conn, envelopes):
        return None

    meta = EventMetadata(province=stream.province, centre=CENTRE, correlation_id=uuid.uuid4())
    await commit(store, {stream.id: events}, {stream.id: expected}, meta, clock=lambda: at, new_id=uuid.uuid4,
                 project=nothing)


def envelopes(province, stream, events, at, expected=0, centre=CENTRE):
    meta = EventMetadata(province=province, centre=centre, correlation_id=uuid.uuid4())
    return make_envelopes(stream, expected, events, meta, now=at, new_id=uuid.uuid4)


async def publish(js, envs):
    for i in range(0, len(envs), 200):
        await asyncio.gather(*(js.publish(e.subject, e.model_dump_json().encode(),
                                          headers={"Nats-Msg-Id": str(e.event_id)}) for e in envs[i:i + 200]))


def opened(class_id, programme, starts_on, title="Lớp bồi dưỡng"):
    return ClassOpened(class_id=class_id, programme_type=programme, title=title, capacity=5000, starts_on=starts_on,
                       ends_on=starts_on + timedelta(days=5), venue="Hội trường")


def enrolled(class_id, n, org):
    learner_id = uuid.uuid4()
    return LearnerEnrolled(class_id=class_id, class_title="Lớp bồi dưỡng", learner_id=learner_id,
                           personal=legacy_sealed(learner_id, f"Nguyễn Văn Học {n}", date(1990, 1, 1)),
                           sending_organisation=org, seat_number=n + 1)


def withdrawn(e: LearnerEnrolled, reason="xin rút"):
    return LearnerWithdrawn(class_id=e.class_id, class_title=e.class_title, learner_id=e.learner_id,
                            personal=e.personal, sending_organisation=e.sending_organisation, reason=reason)


def result(e: LearnerEnrolled, score: str | None, passed: bool, band: str | None):
    return LearnerResultFinalised(
        class_id=e.class_id, class_title=e.class_title, learner_id=e.learner_id, personal=e.personal,
        sending_organisation=e.sending_organisation, eligible=score is not None,
        final_score=Decimal(score) if score else None, grade_band=band, passed=passed, conduct="tot",
        sessions_attended=8, sessions_counted=10)


def sizes(n_classes: int, places: int) -> list[int]:
    """58 class sizes adding up to 6,500, uneven like a real year (a dissemination class takes 500+)."""
    out = [500, 420] + [50 + (i * 37) % 80 for i in range(n_classes - 2)]
    out[-1] += places - sum(out)
    assert out[-1] > 0 and sum(out) == places
    return out


async def until(condition, timeout=60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the figures did not reach the expected values in time")


async def read(pool, year=YEAR, centre=CENTRE):
    return tally.figures(year, centre, await tables.counts(pool, year, centre))


async def test_a_year_of_hau_loc_reads_back_exactly_and_a_rebuild_gives_the_same_figures(pool, figures, province):
    js, store = figures
    scheduling, enrolment = [], []
    expected_places: dict[str, int] = {}
    expected_by_org: dict[str, int] = {}
    classes = []
    for i, size in enumerate(sizes(58, 6500)):
        class_id, programme = uuid.uuid4(), PROGRAMMES[i % len(PROGRAMMES)]
        starts = date(YEAR, 1 + i % 12, 1 + i % 28)
        scheduling += envelopes(province, f"scheduling:class:{class_id}", [opened(class_id, programme, starts)], AT)
        roster = [enrolled(class_id, n, ORGS[(i + n) % len(ORGS)]) for n in range(size + 3)]
        # three leave again: places are learners holding a seat, enrolled minus withdrawn
        leaving = [withdrawn(e) for e in roster[-3:]]
        enrolment += envelopes(province, f"enrolment:roster:{class_id}", roster, AT)
        enrolment += envelopes(province, f"enrolment:roster:{class_id}", leaving, AT + timedelta(days=1), len(roster))
        expected_places[programme] = expected_places.get(programme, 0) + size
        for e in roster[:size]:
            expected_by_org[e.sending_organisation.code] = expected_by_org.get(e.sending_organisation.code, 0) + 1
        classes.append((class_id, roster[:size]))
    # two cancelled classes with learners: counted apart, their places count nowhere
    for k in range(2):
        class_id = uuid.uuid4()
        scheduling += envelopes(province, f"scheduling:class:{class_id}", [
            opened(class_id, "chuyen_de", date(YEAR, 3, 1)),
            ClassCancelled(class_id=class_id, class_title="Lớp chuyên đề", reason="Trùng lịch")], AT)
        enrolment += envelopes(province, f"enrolment:roster:{class_id}", [enrolled(class_id, 0, ORGS[0])], AT)
    # another year and another centre: not in Hậu Lộc's 2024
    other_year, other_centre = uuid.uuid4(), uuid.uuid4()
    scheduling += envelopes(province, f"scheduling:class:{other_year}",
                            [opened(other_year, "ky_nang", date(YEAR + 1, 1, 5))], AT)
    scheduling += envelopes(province, f"scheduling:class:{other_centre}",
                            [opened(other_centre, "ky_nang", date(YEAR, 6, 5))], AT, centre="nga-son")
    enrolment += envelopes(province, f"enrolment:roster:{other_year}", [enrolled(other_year, 0, ORGS[1])], AT)
    enrolment += envelopes(province, f"enrolment:roster:{other_centre}",
                           [enrolled(other_centre, n, ORGS[2]) for n in range(7)], AT, centre="nga-son")

    # enrolment's stream first, then scheduling's: the figures do not depend on the order streams arrive in
    await publish(js, enrolment)
    await publish(js, scheduling)

    async def year_read():
        f = await read(pool)
        return f.total.classes == 58 and f.total.places == 6500

    await until(year_read)
    f = await read(pool)
    assert (f.total.classes, f.total.cancelled_classes, f.total.places) == (58, 2, 6500)
    assert {line.programme_type: line.places for line in f.by_programme_type} == expected_places
    assert sum(line.classes for line in f.by_programme_type) == 58
    assert {line.organisation_code: line.places for line in f.by_organisation} == expected_by_org
    assert f.by_centre == [] and f.total.results.finalised == 0 and f.total.results.pass_rate is None
    # the facts handlers ran too: the figures are chained after them, not instead of them
    assert len(await facts.learners(pool, CENTRE, classes[0][0])) == len(classes[0][1])

    # a smaller finalised subset: one class of 40, its results appended by assessment and relayed
    class_id, learners = next(c for c in classes if len(c[1]) >= 40)
    forty = learners[:40]
    bands = (["9.5"] * 3 + ["8.4"] * 7 + ["7.0"] * 15 + ["5.5"] * 9 + ["3.0"] * 4)  # 38 eligible
    band_of = {"9.5": "xuat_sac", "8.4": "gioi", "7.0": "kha", "5.5": "trung_binh", "3.0": "khong_dat"}
    decided = [result(e, s, band_of[s] != "khong_dat", band_of[s]) for e, s in zip(forty, bands, strict=False)]
    decided += [result(e, None, False, None) for e in forty[38:]]  # two lost eligibility
    stream = SimpleNamespace(id=f"assessment:class:{class_id}", province=province)
    await finalise(store, stream, decided, AT + timedelta(days=30), 0)
    # in the appending transaction: no waiting
    assert (await read(pool)).total.results.finalised == 40
    # a re-sit: one who failed passes with Trung bình, and the later result replaces the first
    await finalise(store, stream, [result(forty[34], "6.0", True, "trung_binh")], AT + timedelta(days=40), 40)
    r = (await read(pool)).total.results
    assert (r.finalised, r.passed, r.ineligible) == (40, 35, 2)
    assert r.grades == {"xuat_sac": 3, "gioi": 7, "kha": 15, "trung_binh": 10, "khong_dat": 3}
    assert r.pass_rate == round(35 / 40, 4)
    by_org = {line.organisation_code: line.results for line in (await read(pool)).by_organisation}
    assert sum(x.finalised for x in by_org.values()) == 40 and sum(x.passed for x in by_org.values()) == 35

    province_wide = await read(pool, centre=None)
    assert province_wide.total.places == 6507 and province_wide.total.classes == 59
    assert [(c.centre, c.classes, c.places) for c in province_wide.by_centre] == [("hau-loc", 58, 6500),
                                                                                   ("nga-son", 1, 7)]
    next_year = await read(pool, year=YEAR + 1)
    assert (next_year.total.classes, next_year.total.places) == (1, 1)

    # the rebuild empties the tables and computes them again from the streams and the store: the same rows
    before, figures_before = await tables.snapshot(pool), await read(pool)
    await pool.execute("DELETE FROM figure_places WHERE organisation_code = 'org-03'")  # a damaged projection
    done = await rebuild(pool, js, province)
    assert done == {"scheduling": len(scheduling), "enrolment": len(enrolment), "assessment": 41}
    assert await tables.snapshot(pool) == before
    assert await read(pool) == figures_before

    # and the live path carries on
    late = enrolled(class_id, 999, ORGS[5])
    await publish(js, envelopes(province, f"enrolment:roster:{class_id}", [late], AT + timedelta(days=50),
                                len(learners) + 3 + 3))

    async def one_more():
        return (await read(pool)).total.places == 6501

    await until(one_more)
    assert await tables.snapshot(pool) != before
    # an append outside a caller's transaction projects in a transaction of its own
    [env] = envelopes(province, stream.id, [result(late, "8.0", True, "gioi")], AT + timedelta(days=60), 41)
    await store.append([env], 41)
    r = (await read(pool)).total.results
    assert (r.finalised, r.passed, r.grades["gioi"]) == (41, 36, 8)
