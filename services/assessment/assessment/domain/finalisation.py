"""Finalising a class's results, and re-sits after it: pure decide and evolve over `assessment:class:<class>`.

Finalising gives every learner still enrolled a LearnerResultFinalised (ineligible ones recorded as such) and the
class one ClassResultsFinalised, and issues a certificate to each who passed, all in one decision; it is refused
while an eligible learner lacks a score. A re-sit replaces one component's score and finalises that learner again:
a pass issues a new certificate and revokes the one it replaces.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from ttct.contracts import DomainEvent
from ttct.contracts.certificate_revoked import CertificateRevoked
from ttct.contracts.class_results_finalised import ClassResultsFinalised
from ttct.contracts.learner_result_finalised import LearnerResultFinalised
from ttct.contracts.score_recorded import Score
from ttct.contracts.types import GradeBand
from ttct.domain.errors import Rejected

from assessment.domain import certificates, results
from assessment.domain.attendance import Standing
from assessment.domain.facts import ClassFacts, LearnerInClass
from assessment.domain.schemes import ComponentName, Scheme

Decision = dict[str, list[DomainEvent]]
"""Events by stream id, appended together in one transaction, in this order."""


class Resit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    learner_id: UUID
    component: ComponentName = "final"
    score: Score


@dataclass(frozen=True)
class Outcome:
    eligible: bool
    passed: bool
    final_score: Decimal | None
    grade_band: GradeBand | None
    certificate_number: str | None
    finalisations: int = 1


@dataclass(frozen=True)
class ClassResults:
    finalised: bool = False
    outcomes: Mapping[UUID, Outcome] = field(default_factory=dict)


@dataclass(frozen=True)
class Sitting:
    """One learner's case: who, their marks, the scheme version they are pinned to, their attendance."""

    learner: LearnerInClass
    result: results.Result
    scheme: Scheme
    standing: Standing


@dataclass(frozen=True)
class Issuing:
    """Where new certificates go: this centre's registry for the year of `today`, and codes to hand out."""

    centre: str
    today: date
    registry: certificates.Registry
    codes: Sequence[str]


def stream_id(class_id: UUID) -> str:
    return f"assessment:class:{class_id}"


def _result(facts: ClassFacts, s: Sitting, final: Decimal | None, number: str | None) -> LearnerResultFinalised:
    eligible = s.standing.eligible
    band = s.scheme.band(final) if eligible and final is not None else None
    return LearnerResultFinalised(
        class_id=facts.class_id, class_title=facts.title or s.learner.class_title, learner_id=s.learner.learner_id,
        personal=s.learner.personal, sending_organisation=s.learner.sending_organisation, eligible=eligible,
        final_score=final if eligible else None, grade_band=band,
        passed=eligible and final is not None and s.scheme.passes(final), conduct=s.result.conduct,
        sessions_attended=s.standing.attended, sessions_counted=s.standing.sessions_counted,
        certificate_number=number)


def decide_finalise(facts: ClassFacts, sittings: Sequence[Sitting], state: ClassResults,
                    issuing: Issuing) -> Decision:
    """`sittings`: every learner still enrolled in the class."""
    facts.usable()
    if state.finalised:
        raise Rejected(f"the results of class {facts.class_id} are already final",
                       f"Kết quả của lớp {facts.class_id} đã được chốt", code="results-already-finalised")
    if not sittings:
        raise Rejected("the class has no learners to finalise", "Lớp chưa có học viên nào",
                       code="no-learners")
    missing = [(s, [c for c in s.scheme.component_names() if c not in s.result.scores])
               for s in sittings if s.standing.eligible]
    missing = [(s, m) for s, m in missing if m]
    if missing:
        who = "; ".join(f"{s.learner.full_name} ({', '.join(m)})" for s, m in missing)
        raise Rejected(f"eligible learners lack a score: {who}", f"Học viên đủ điều kiện còn thiếu điểm: {who}",
                       code="scores-missing",
                       learners=[{"learner_id": str(s.learner.learner_id), "full_name": s.learner.full_name,
                                  "missing": m} for s, m in missing])
    class_events: list[DomainEvent] = []
    issued: list[DomainEvent] = []
    for s in sittings:
        final = s.scheme.final_score(s.result.scores) if s.standing.eligible else None
        number = None
        if s.standing.eligible and final is not None and s.scheme.passes(final):
            certificate = certificates.issue(issuing.registry, issuing.centre, issuing.today, facts, s.learner,
                                             issuing.codes[len(issued)], already=len(issued))
            issued.append(certificate)
            number = certificate.certificate_number
        class_events.append(_result(facts, s, final, number))
    passed = sum(1 for e in class_events if isinstance(e, LearnerResultFinalised) and e.passed)
    class_events.append(ClassResultsFinalised(class_id=facts.class_id, class_title=facts.title,
                                              programme_type=facts.programme_type, learners=len(sittings),
                                              passed=passed))
    decision: Decision = {stream_id(facts.class_id): class_events}
    if issued:
        decision[certificates.stream_id(issuing.centre, issuing.today.year)] = issued
    return decision


def decide_resit(command: Resit, facts: ClassFacts, sitting: Sitting, state: ClassResults, issuing: Issuing,
                 replaced: certificates.Registry | None) -> Decision:
    """`replaced`: the registry holding the learner's current certificate, if they have one."""
    facts.usable()
    learner, scheme = sitting.learner, sitting.scheme
    if not state.finalised:
        raise Rejected("the class's results are not final yet: record the score itself",
                       "Kết quả của lớp chưa được chốt: hãy ghi điểm bình thường", code="results-not-finalised")
    before = state.outcomes.get(learner.learner_id)
    if before is None or not before.eligible:
        raise Rejected(f"{learner.full_name} was not eligible to sit the final test",
                       f"Học viên {learner.full_name} không đủ điều kiện dự thi", code="not-eligible")
    if before.passed and not scheme.rules.resit_if_passed:
        raise Rejected(f"{learner.full_name} passed; scheme {scheme.ref} allows re-sits only to those who failed",
                       f"Học viên {learner.full_name} đã đạt; hình thức {scheme.ref} chỉ cho thi lại khi không đạt",
                       code="resit-not-allowed")
    if before.finalisations - 1 >= scheme.rules.max_resits:
        raise Rejected(f"{learner.full_name} has used the {scheme.rules.max_resits} re-sit(s) scheme {scheme.ref} "
                       "allows", f"Học viên {learner.full_name} đã thi lại đủ {scheme.rules.max_resits} lần",
                       code="resits-exhausted")
    score = results.score_event(learner, command.component, command.score, scheme)
    result = results.evolve(sitting.result, score)
    final = scheme.final_score(result.scores)
    assert final is not None  # every component had a score at finalisation
    improves = final > before.final_score if before.final_score is not None else True
    issued: dict[str, list[DomainEvent]] = {}
    again = replace(sitting, result=result)
    if scheme.passes(final) and (improves or not before.passed):
        certificate = certificates.issue(issuing.registry, issuing.centre, issuing.today, facts, learner,
                                         issuing.codes[0])
        old = replaced.certificates.get(before.certificate_number) if replaced and before.certificate_number else None
        if old is not None and not old.revoked:
            centre, year = certificates.parse_number(old.number)
            issued.setdefault(certificates.stream_id(centre, year), []).append(CertificateRevoked(
                certificate_number=old.number, class_id=facts.class_id, learner_id=learner.learner_id,
                reason=f"replaced by {certificate.certificate_number} after a re-sit"))
        issued.setdefault(certificates.stream_id(issuing.centre, issuing.today.year), []).append(certificate)
        finalised = _result(facts, again, final, certificate.certificate_number)
    elif before.passed:  # an improvement re-sit that did not improve: the better result holds
        finalised = _result(facts, again, before.final_score, before.certificate_number)
    else:
        finalised = _result(facts, again, final, None)
    return {results.stream_id(facts.class_id, learner.learner_id): [score], stream_id(facts.class_id): [finalised],
            **issued}


def evolve(state: ClassResults, event: DomainEvent) -> ClassResults:
    match event:
        case LearnerResultFinalised(learner_id=learner):
            before = state.outcomes.get(learner)
            outcome = Outcome(eligible=event.eligible, passed=event.passed, final_score=event.final_score,
                              grade_band=event.grade_band, certificate_number=event.certificate_number,
                              finalisations=(before.finalisations + 1) if before else 1)
            return replace(state, outcomes={**state.outcomes, learner: outcome})
        case ClassResultsFinalised():
            return replace(state, finalised=True)
    return state
