"""Finalising a class's results, certificates (numbering, revocation) and re-sits: the pure rules."""
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from assessment.domain import attendance as att
from assessment.domain import certificates as certs
from assessment.domain import finalisation as fin
from assessment.domain import results
from assessment.domain.facts import ClassFacts, LearnerInClass, SessionFact
from assessment.domain.schemes import DEFAULT_SCHEME, Component, SchemeRules, next_version
from ttct.contracts import ScoreRecorded
from ttct.contracts.certificate_issued import CertificateIssued
from ttct.contracts.certificate_revoked import CertificateRevoked
from ttct.contracts.class_results_finalised import ClassResultsFinalised
from ttct.contracts.learner_result_finalised import LearnerResultFinalised
from ttct.contracts.types import GradeBand, SendingOrganisation
from ttct.domain.errors import NotFound, Rejected
from ttct.privacy.personal import legacy_sealed, unseal

pytestmark = pytest.mark.unit
ORG = SendingOrganisation(code="xa-hoa-loc", name="Đảng ủy xã Hoa Lộc")
D = Decimal
TODAY = date(2026, 12, 21)
START = date(2026, 12, 1)
FACTS = ClassFacts(class_id=uuid4(), title="Lớp Sơ cấp LLCT khóa 2", programme_type="so_cap_llct", opened=True,
                   sessions=tuple(SessionFact(uuid4(), START + timedelta(days=i)) for i in range(10)),
                   scheduled_total=10)


def sitting(name, scores=None, absences=0, scheme=DEFAULT_SCHEME, conduct=None):
    learner_id = uuid4()
    who = LearnerInClass(class_id=FACTS.class_id, class_title=FACTS.title, learner_id=learner_id, full_name=name,
                         personal=legacy_sealed(learner_id, name), sending_organisation=ORG, enrolled_on=START)
    marks = {s.session_id: ("absent" if i < absences else "present") for i, s in enumerate(FACTS.sessions)}
    attendance = att.Attendance(marks={who.learner_id: marks})
    result = results.Result(scores={k: D(v) for k, v in (scores or {}).items()}, scheme_version=scheme.ref,
                            conduct=conduct)
    return fin.Sitting(who, result, scheme, att.standing(FACTS, who, attendance))


def issuing(registry=certs.Registry(), today=TODAY, n=10):
    return fin.Issuing("hau-loc", today, registry, [f"CODE-{i}" for i in range(n)])


def apply(state, decision, evolve, stream):
    for e in decision.get(stream, []):
        state = evolve(state, e)
    return state


def test_finalising_gives_every_learner_a_result_the_class_one_event_and_winners_numbered_certificates():
    good = sitting("Lê Thị Bình", {"final": "8.5"}, conduct="tot")
    weak = sitting("Trần Văn An", {"final": "4.0"})
    absent = sitting("Phạm Văn Cường", {"final": "9.0"}, absences=3)  # 3 of 10 > 20%: may not sit
    decision = fin.decide_finalise(FACTS, [good, weak, absent], fin.ClassResults(), issuing())
    class_events = decision[fin.stream_id(FACTS.class_id)]
    # the events carry the sealed name as received: opened here to find each learner's
    by_name = {unseal(b"", e.personal).full_name: e for e in class_events if isinstance(e, LearnerResultFinalised)}
    assert by_name["Lê Thị Bình"].passed and by_name["Lê Thị Bình"].grade_band == GradeBand.gioi
    assert by_name["Lê Thị Bình"].certificate_number == "hau-loc/2026/00001"
    assert by_name["Lê Thị Bình"].conduct == "tot" and by_name["Lê Thị Bình"].sessions_attended == 10
    assert by_name["Trần Văn An"].eligible and not by_name["Trần Văn An"].passed
    assert by_name["Trần Văn An"].grade_band == GradeBand.khong_dat
    assert by_name["Trần Văn An"].certificate_number is None
    ineligible = by_name["Phạm Văn Cường"]
    assert (ineligible.eligible, ineligible.final_score, ineligible.grade_band, ineligible.passed) == (
        False, None, None, False)
    assert (ineligible.sessions_attended, ineligible.sessions_counted) == (7, 10)
    [summary] = [e for e in class_events if isinstance(e, ClassResultsFinalised)]
    assert (summary.learners, summary.passed, summary.programme_type) == (3, 1, "so_cap_llct")
    assert class_events[-1] is summary
    [issued] = decision[certs.stream_id("hau-loc", 2026)]
    assert isinstance(issued, CertificateIssued) and issued.verification_code == "CODE-0"
    assert (issued.personal, issued.class_title, issued.issued_on) == (good.learner.personal, FACTS.title, TODAY)


def test_finalising_is_refused_naming_every_eligible_learner_who_lacks_a_score():
    scheme = next_version("so-cap", 0, SchemeRules(components=[Component(name="written-test", weight=D("0.5")),
                                                               Component(name="essay", weight=D("0.5"))]))
    complete = sitting("Lê Thị Bình", {"written-test": "8", "essay": "7"}, scheme=scheme)
    partial = sitting("Trần Văn An", {"written-test": "8"}, scheme=scheme)
    none = sitting("Hoàng Thị Lan", scheme=scheme)
    ineligible = sitting("Phạm Văn Cường", absences=5, scheme=scheme)  # no score needed
    with pytest.raises(Rejected) as refused:
        fin.decide_finalise(FACTS, [complete, partial, none, ineligible], fin.ClassResults(), issuing())
    assert refused.value.code == "scores-missing" and refused.value.status == 409
    assert "Trần Văn An (essay)" in refused.value.detail
    assert "Hoàng Thị Lan (written-test, essay)" in refused.value.detail
    assert "Phạm Văn Cường" not in refused.value.detail and "Lê Thị Bình" not in refused.value.detail
    assert [w["full_name"] for w in refused.value.extra["learners"]] == ["Trần Văn An", "Hoàng Thị Lan"]


def test_finalising_twice_an_empty_class_or_a_cancelled_one_is_refused():
    one = sitting("Lê Thị Bình", {"final": "8"})
    decision = fin.decide_finalise(FACTS, [one], fin.ClassResults(), issuing())
    state = apply(fin.ClassResults(), decision, fin.evolve, fin.stream_id(FACTS.class_id))
    assert state.finalised
    for facts, sittings, st, code in [(FACTS, [one], state, "results-already-finalised"),
                                      (FACTS, [], fin.ClassResults(), "no-learners"),
                                      (ClassFacts(**{**FACTS.__dict__, "cancelled": True}), [one], fin.ClassResults(),
                                       "class-cancelled"),
                                      (ClassFacts(class_id=FACTS.class_id), [one], fin.ClassResults(),
                                       "class-unknown")]:
        with pytest.raises(Rejected) as refused:
            fin.decide_finalise(facts, sittings, st, issuing())
        assert refused.value.code == code


def test_certificate_numbers_continue_the_centre_s_sequence_for_the_year():
    registry = certs.Registry()
    for i in range(3):
        registry = certs.evolve(registry, certs.issue(registry, "hau-loc", TODAY, FACTS, sitting(f"A {i}").learner,
                                                      f"C{i}"))
    two = [sitting("Lê Thị Bình", {"final": "8"}), sitting("Trần Văn An", {"final": "9"})]
    decision = fin.decide_finalise(FACTS, two, fin.ClassResults(), issuing(registry))
    assert [e.certificate_number for e in decision[certs.stream_id("hau-loc", 2026)]] == [
        "hau-loc/2026/00004", "hau-loc/2026/00005"]
    next_year = fin.decide_finalise(FACTS, two[:1], fin.ClassResults(), issuing(today=date(2027, 1, 5)))
    assert next_year[certs.stream_id("hau-loc", 2027)][0].certificate_number == "hau-loc/2027/00001"
    assert certs.parse_number("hau-loc/2027/00001") == ("hau-loc", 2027)
    with pytest.raises(NotFound):
        certs.parse_number("hau-loc-2027-1")


def test_a_certificate_can_be_revoked_once_and_an_unknown_one_not_at_all():
    issued = certs.issue(certs.Registry(), "hau-loc", TODAY, FACTS, sitting("Lê Thị Bình").learner, "C0")
    registry = certs.evolve(certs.Registry(), issued)
    command = certs.RevokeCertificate(certificate_number=issued.certificate_number, reason="Cấp nhầm")
    [revoked] = certs.decide_revoke(command, registry)
    assert isinstance(revoked, CertificateRevoked) and revoked.learner_id == issued.learner_id
    registry = certs.evolve(registry, revoked)
    with pytest.raises(Rejected) as e:
        certs.decide_revoke(command, registry)
    assert e.value.code == "certificate-revoked"
    with pytest.raises(NotFound):
        certs.decide_revoke(certs.RevokeCertificate(certificate_number="hau-loc/2026/00099", reason="x"), registry)


def test_a_register_folded_at_once_is_the_register_evolved_event_by_event():
    history, registry = [], certs.Registry()
    for i in range(30):
        issued = certs.issue(registry, "hau-loc", TODAY, FACTS, sitting(f"Học viên {i}").learner, f"C{i}")
        history.append(issued)
        registry = certs.evolve(registry, issued)
        if i % 7 == 3:  # some revoked, one of them twice in the history (the second changes nothing)
            [revoked] = certs.decide_revoke(certs.RevokeCertificate(certificate_number=issued.certificate_number,
                                                                    reason="Cấp nhầm"), registry)
            history += [revoked, revoked] if i == 3 else [revoked]
            registry = certs.evolve(certs.evolve(registry, revoked), revoked) if i == 3 else certs.evolve(
                registry, revoked)
    assert certs.fold(certs.Registry(), history) == registry
    assert certs.fold(certs.fold(certs.Registry(), history[:10]), history[10:]) == registry
    assert registry.issued == 30 and sum(c.revoked for c in registry.certificates.values()) == 4


def finalised(*sittings, scheme_registry=certs.Registry()):
    decision = fin.decide_finalise(FACTS, list(sittings), fin.ClassResults(), issuing(scheme_registry))
    state = apply(fin.ClassResults(), decision, fin.evolve, fin.stream_id(FACTS.class_id))
    registry = apply(scheme_registry, decision, certs.evolve, certs.stream_id("hau-loc", 2026))
    return state, registry


def test_a_learner_who_failed_may_re_sit_and_passing_then_issues_a_certificate():
    weak = sitting("Trần Văn An", {"final": "4.0"})
    state, registry = finalised(weak)
    decision = fin.decide_resit(fin.Resit(learner_id=weak.learner.learner_id, score=D("6.0")), FACTS, weak, state,
                                issuing(registry), None)
    [score] = decision[results.stream_id(FACTS.class_id, weak.learner.learner_id)]
    assert isinstance(score, ScoreRecorded) and score.score == D("6.0")
    [result] = decision[fin.stream_id(FACTS.class_id)]
    assert result.passed and result.final_score == D("6.0") and result.certificate_number == "hau-loc/2026/00001"
    [issued] = decision[certs.stream_id("hau-loc", 2026)]
    assert issued.certificate_number == "hau-loc/2026/00001"
    state = apply(state, decision, fin.evolve, fin.stream_id(FACTS.class_id))
    again = fin.Sitting(weak.learner, results.evolve(weak.result, score), weak.scheme, weak.standing)
    with pytest.raises(Rejected) as e:  # the default scheme allows one re-sit, and they passed
        fin.decide_resit(fin.Resit(learner_id=weak.learner.learner_id, score=D("9.0")), FACTS, again, state,
                         issuing(registry), registry)
    assert e.value.code == "resit-not-allowed"


def test_re_sits_are_limited_by_the_scheme_and_refused_before_finalisation_and_to_the_ineligible():
    weak = sitting("Trần Văn An", {"final": "3.0"})
    absent = sitting("Phạm Văn Cường", {"final": "9.0"}, absences=4)
    with pytest.raises(Rejected) as e:
        fin.decide_resit(fin.Resit(learner_id=weak.learner.learner_id, score=D("5")), FACTS, weak, fin.ClassResults(),
                         issuing(), None)
    assert e.value.code == "results-not-finalised"
    state, registry = finalised(weak, absent)
    with pytest.raises(Rejected) as e:
        fin.decide_resit(fin.Resit(learner_id=absent.learner.learner_id, score=D("5")), FACTS, absent, state,
                         issuing(registry), None)
    assert e.value.code == "not-eligible"
    decision = fin.decide_resit(fin.Resit(learner_id=weak.learner.learner_id, score=D("4.0")), FACTS, weak, state,
                                issuing(registry), None)
    [result] = decision[fin.stream_id(FACTS.class_id)]
    assert not result.passed and certs.stream_id("hau-loc", 2026) not in decision
    state = apply(state, decision, fin.evolve, fin.stream_id(FACTS.class_id))
    with pytest.raises(Rejected) as e:
        fin.decide_resit(fin.Resit(learner_id=weak.learner.learner_id, score=D("7")), FACTS, weak, state,
                         issuing(registry), None)
    assert e.value.code == "resits-exhausted"


def test_an_improvement_re_sit_reissues_the_certificate_with_a_new_number_and_revokes_the_old_one():
    scheme = next_version("cai-thien", 0, SchemeRules(components=[Component(name="final", weight=D(1))],
                                                      resit_if_passed=True, max_resits=2))
    fair = sitting("Lê Thị Bình", {"final": "6.0"}, scheme=scheme)
    state, registry = finalised(fair)
    old = state.outcomes[fair.learner.learner_id].certificate_number
    assert old == "hau-loc/2026/00001"
    worse = fin.decide_resit(fin.Resit(learner_id=fair.learner.learner_id, score=D("5.5")), FACTS, fair, state,
                             issuing(registry), registry)
    [kept] = worse[fin.stream_id(FACTS.class_id)]
    assert (kept.final_score, kept.certificate_number) == (D("6.0"), old)  # the better result holds
    assert certs.stream_id("hau-loc", 2026) not in worse
    better = fin.decide_resit(fin.Resit(learner_id=fair.learner.learner_id, score=D("8.0")), FACTS, fair, state,
                              issuing(registry), registry)
    revoked, issued = better[certs.stream_id("hau-loc", 2026)]
    assert isinstance(revoked, CertificateRevoked) and revoked.certificate_number == old
    assert isinstance(issued, CertificateIssued) and issued.certificate_number == "hau-loc/2026/00002"
    [result] = better[fin.stream_id(FACTS.class_id)]
    assert (result.grade_band, result.certificate_number) == (GradeBand.gioi, "hau-loc/2026/00002")


def test_reissue_in_a_later_year_revokes_the_old_certificate_in_its_own_year_s_registry():
    scheme = next_version("cai-thien", 0, SchemeRules(components=[Component(name="final", weight=D(1))],
                                                      resit_if_passed=True))
    fair = sitting("Lê Thị Bình", {"final": "6.0"}, scheme=scheme)
    state, registry = finalised(fair)
    decision = fin.decide_resit(fin.Resit(learner_id=fair.learner.learner_id, score=D("9.0")), FACTS, fair, state,
                                issuing(certs.Registry(), today=date(2027, 1, 10)), registry)
    [revoked] = decision[certs.stream_id("hau-loc", 2026)]
    [issued] = decision[certs.stream_id("hau-loc", 2027)]
    assert revoked.certificate_number == "hau-loc/2026/00001" and issued.certificate_number == "hau-loc/2027/00001"
