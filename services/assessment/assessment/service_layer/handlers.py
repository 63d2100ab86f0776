"""Assessment's command handlers: read the facts and states a decision needs, decide (pure), store the events."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg
from ttct.contracts import EventMetadata
from ttct.domain.errors import NotFound
from ttct.eventsourcing.aggregates import Aggregates
from ttct.operations.runtime import Runtime

from assessment.adapters import facts as fx
from assessment.adapters import schemes, views
from assessment.adapters.facts import VIETNAM
from assessment.domain import attendance as att
from assessment.domain import certificates as certs
from assessment.domain import finalisation as fin
from assessment.domain import results
from assessment.domain.facts import ClassFacts, LearnerInClass, class_unknown, not_in_class
from assessment.domain.schemes import Scheme
from assessment.service_layer.together import commit, retrying


@dataclass
class Aggregated:
    """The service's aggregates on the runtime's event store."""

    runtime: Runtime
    results: Aggregates[results.Result]
    attendance: Aggregates[att.Attendance]
    classes: Aggregates[fin.ClassResults]
    registries: Aggregates[certs.Registry]

    @classmethod
    def on(cls, rt: Runtime) -> "Aggregated":
        return cls(rt, rt.aggregates(results.Result, results.evolve), rt.aggregates(att.Attendance, att.evolve),
                   rt.aggregates(fin.ClassResults, fin.evolve),
                   rt.aggregates(certs.Registry, certs.evolve, fold=certs.fold,
                                 streams=rt.settings.certificate_registers_cached))

    @property
    def pool(self) -> asyncpg.Pool:
        return self.runtime.pool

    def today(self) -> date:
        return self.runtime.clock().astimezone(VIETNAM).date()

    def codes(self, n: int) -> list[str]:
        """Verification codes: 64 random bits each, in groups of four hex digits."""
        out = []
        for _ in range(n):
            h = self.runtime.new_id().hex[:16].upper()
            out.append("-".join(h[i:i + 4] for i in range(0, 16, 4)))
        return out


async def _facts(a: Aggregated, centre: str, class_id: UUID) -> ClassFacts:
    found = await fx.class_facts(a.pool, centre, class_id)
    if found is None:
        raise class_unknown(class_id)
    return found.usable()


async def _learner(a: Aggregated, centre: str, class_id: UUID, learner_id: UUID) -> LearnerInClass:
    learner = await fx.learner_in_class(a.pool, centre, class_id, learner_id)
    if learner is None:
        raise not_in_class(class_id, [learner_id])
    return learner


async def _finalised(a: Aggregated, class_id: UUID) -> fin.ClassResults:
    return (await a.classes.load(fin.stream_id(class_id)))[0]


async def _scheme(a: Aggregated, centre: str, facts: ClassFacts, result: results.Result) -> Scheme:
    if result.scheme_version:
        return await schemes.get(a.pool, centre, result.scheme_version)
    return await schemes.for_class(a.pool, centre, facts)


async def record_score(a: Aggregated, centre: str, class_id: UUID, command: results.RecordScore,
                       metadata: EventMetadata) -> None:
    learner = await _learner(a, centre, class_id, command.learner_id)
    facts = await _facts(a, centre, class_id)
    finalised = (await _finalised(a, class_id)).finalised
    stream = results.stream_id(class_id, learner.learner_id)
    scheme = await _scheme(a, centre, facts, (await a.results.load(stream))[0])
    await a.results.execute(stream, lambda r: results.decide_record(command, learner, r, scheme, finalised=finalised),
                            metadata, project=views.project)


async def record_scores(a: Aggregated, centre: str, class_id: UUID, command: results.RecordScores,
                        metadata: EventMetadata) -> None:
    """A component's scores for many learners, in one transaction: all of them are stored, or none."""
    async def attempt():
        facts = await _facts(a, centre, class_id)
        learners = await fx.learners(a.pool, centre, class_id)
        finalised = (await _finalised(a, class_id)).finalised
        listed = [s.learner_id for s in command.scores if s.learner_id in learners]
        streams = await a.results.load_many([results.stream_id(class_id, i) for i in listed])
        loaded = {i: streams[results.stream_id(class_id, i)] for i in listed}
        pinned: dict[str | None, Scheme] = {}  # one lookup per scheme version, not one per learner
        for result, _version in loaded.values():
            if result.scheme_version not in pinned:
                pinned[result.scheme_version] = await _scheme(a, centre, facts, result)
        sittings = {i: (result, pinned[result.scheme_version]) for i, (result, _v) in loaded.items()}
        decided = results.decide_scores(command, class_id, learners, sittings, finalised=finalised)
        decision = {results.stream_id(class_id, i): events for i, events in decided.items()}
        versions = {results.stream_id(class_id, i): version for i, (_r, version) in loaded.items()}
        return await commit(a.runtime.store, decision, versions, metadata, clock=a.runtime.clock,
                            new_id=a.runtime.new_id, project=views.project)

    await retrying(attempt)


async def rate_conduct(a: Aggregated, centre: str, class_id: UUID, command: results.RateConduct,
                       metadata: EventMetadata) -> None:
    learner = await _learner(a, centre, class_id, command.learner_id)
    await _facts(a, centre, class_id)
    finalised = (await _finalised(a, class_id)).finalised
    await a.results.execute(results.stream_id(class_id, learner.learner_id),
                            lambda r: results.decide_conduct(command, learner, r, finalised=finalised),
                            metadata, project=views.project)


async def record_attendance(a: Aggregated, centre: str, class_id: UUID, session_id: UUID,
                            command: att.RecordAttendance, metadata: EventMetadata) -> None:
    facts = await fx.class_facts(a.pool, centre, class_id)
    if facts is None:
        raise class_unknown(class_id)
    learners = await fx.learners(a.pool, centre, class_id)
    finalised = (await _finalised(a, class_id)).finalised
    await a.attendance.execute(
        att.stream_id(class_id),
        lambda s: att.decide_record(session_id, command, facts, learners, s, finalised=finalised),
        metadata, project=views.project)


async def standings(a: Aggregated, centre: str, class_id: UUID) -> list[tuple[LearnerInClass, att.Standing, bool]]:
    """Each learner's attendance standing, and whether they were told they lost eligibility."""
    facts = await fx.class_facts(a.pool, centre, class_id)
    if facts is None:
        raise class_unknown(class_id)
    state = (await a.attendance.load(att.stream_id(class_id)))[0]
    return [(l, att.standing(facts, l, state), l.learner_id in state.lost)
            for l in (await fx.learners(a.pool, centre, class_id)).values()]


async def _sittings(a: Aggregated, centre: str, facts: ClassFacts, learners: list[LearnerInClass],
                    attendance: att.Attendance) -> list[fin.Sitting]:
    """Every learner's sitting: their results read in one query, each scheme version looked up once."""
    streams = await a.results.load_many([results.stream_id(facts.class_id, l.learner_id) for l in learners])
    pinned: dict[str | None, Scheme] = {}
    out = []
    for learner in learners:
        result = streams[results.stream_id(facts.class_id, learner.learner_id)][0]
        if result.scheme_version not in pinned:
            pinned[result.scheme_version] = await _scheme(a, centre, facts, result)
        out.append(fin.Sitting(learner, result, pinned[result.scheme_version],
                               att.standing(facts, learner, attendance)))
    return out


async def finalise(a: Aggregated, centre: str, class_id: UUID, metadata: EventMetadata) -> None:
    async def attempt():
        facts = await _facts(a, centre, class_id)
        attendance = (await a.attendance.load(att.stream_id(class_id)))[0]
        sittings = await _sittings(a, centre, facts, list((await fx.learners(a.pool, centre, class_id)).values()),
                                   attendance)
        state, class_version = await a.classes.load(fin.stream_id(class_id))
        today = a.today()
        registry_stream = certs.stream_id(centre, today.year)
        registry, registry_version = await a.registries.load(registry_stream)
        decision = fin.decide_finalise(facts, sittings, state,
                                       fin.Issuing(centre, today, registry, a.codes(len(sittings))))
        versions = {fin.stream_id(class_id): class_version, registry_stream: registry_version}
        return await commit(a.runtime.store, decision, versions, metadata, clock=a.runtime.clock,
                            new_id=a.runtime.new_id, project=views.project)

    await retrying(attempt)


async def resit(a: Aggregated, centre: str, class_id: UUID, command: fin.Resit, metadata: EventMetadata) -> None:
    async def attempt():
        facts = await _facts(a, centre, class_id)
        learner = await _learner(a, centre, class_id, command.learner_id)
        attendance = (await a.attendance.load(att.stream_id(class_id)))[0]
        result_stream = results.stream_id(class_id, learner.learner_id)
        result, result_version = await a.results.load(result_stream)
        sitting = fin.Sitting(learner, result, await _scheme(a, centre, facts, result),
                              att.standing(facts, learner, attendance))
        state, class_version = await a.classes.load(fin.stream_id(class_id))
        versions = {fin.stream_id(class_id): class_version, result_stream: result_version}
        today = a.today()
        registry, versions[certs.stream_id(centre, today.year)] = await a.registries.load(
            certs.stream_id(centre, today.year))
        replaced = None
        before = state.outcomes.get(learner.learner_id)
        if before is not None and before.certificate_number:
            old_centre, year = certs.parse_number(before.certificate_number)
            replaced, versions[certs.stream_id(old_centre, year)] = await a.registries.load(
                certs.stream_id(old_centre, year))
        decision = fin.decide_resit(command, facts, sitting, state,
                                    fin.Issuing(centre, today, registry, a.codes(1)), replaced)
        return await commit(a.runtime.store, decision, versions, metadata, clock=a.runtime.clock,
                            new_id=a.runtime.new_id, project=views.project)

    await retrying(attempt)


async def revoke(a: Aggregated, centre: str, command: certs.RevokeCertificate, metadata: EventMetadata) -> None:
    owner, year = certs.parse_number(command.certificate_number)
    if owner != centre:
        raise certs.unknown(command.certificate_number)
    await a.registries.execute(certs.stream_id(centre, year), lambda r: certs.decide_revoke(command, r), metadata,
                               project=views.project)


def not_found_class(class_id: UUID) -> NotFound:
    return NotFound(f"no learners of class {class_id} are known here", f"Chưa có học viên nào của lớp {class_id}")
