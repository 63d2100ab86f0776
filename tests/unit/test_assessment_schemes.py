"""Assessment schemes: weighted components, grade bands, versions; scores and conduct recorded under them."""
from decimal import Decimal
from uuid import uuid4

import pytest
from assessment.domain import results
from assessment.domain.schemes import DEFAULT_SCHEME, Band, Component, SchemeRules, next_version, parse_ref
from pydantic import ValidationError
from ttct.contracts import ScoreRecorded
from ttct.contracts.conduct_rated import ConductRated
from ttct.contracts.types import GradeBand, SendingOrganisation
from ttct.domain.errors import Invalid, Rejected
from ttct.privacy.personal import legacy_sealed

pytestmark = pytest.mark.unit
ORG = SendingOrganisation(code="xa-hoa-loc", name="Đảng ủy xã Hoa Lộc")
D = Decimal


def rules(**kw) -> SchemeRules:
    fields = dict(components=[Component(name="written-test", weight=D("0.6")),
                              Component(name="essay", weight=D("0.4"))])
    return SchemeRules(**{**fields, **kw})


def learner() -> results.LearnerInClass:
    learner_id = uuid4()
    return results.LearnerInClass(class_id=uuid4(), class_title="Lớp 1", learner_id=learner_id, full_name="Lê Thị Bình",
                                  personal=legacy_sealed(learner_id, "Lê Thị Bình"), sending_organisation=ORG)


def test_the_final_score_is_the_weighted_sum_of_every_component_rounded_half_up_to_one_decimal():
    scheme = next_version("so-cap", 0, rules())
    assert scheme.final_score({"written-test": D("7.0"), "essay": D("8.5")}) == D("7.6")
    assert scheme.final_score({"written-test": D("6.5"), "essay": D("7.0")}) == D("6.7")  # 3.9 + 2.8
    assert scheme.final_score({"written-test": D("8.2"), "essay": D("5.1")}) == D("7.0")  # 4.92 + 2.04 = 6.96
    assert scheme.final_score({"written-test": D("7.0")}) is None  # a component is missing


@pytest.mark.parametrize(("score", "band"), [
    ("9.0", GradeBand.xuat_sac), ("8.9", GradeBand.gioi), ("7.0", GradeBand.kha), ("5.0", GradeBand.trung_binh),
    ("4.9", GradeBand.khong_dat)])
def test_the_default_scheme_has_one_final_component_and_the_brief_s_bands(score, band):
    assert DEFAULT_SCHEME.ref == "default@1" and DEFAULT_SCHEME.component_names() == ["final"]
    assert DEFAULT_SCHEME.band(D(score)) == band
    assert DEFAULT_SCHEME.passes(D(score)) == (band is not GradeBand.khong_dat)


def test_a_scheme_may_set_its_own_bands():
    strict = next_version("strict", 0, rules(bands=[Band(band=GradeBand.gioi, floor=D("8.5")),
                                                   Band(band=GradeBand.trung_binh, floor=D("6.0"))]))
    assert strict.band(D("8.4")) == GradeBand.trung_binh and strict.band(D("5.9")) == GradeBand.khong_dat


@pytest.mark.parametrize("bad", [
    dict(components=[Component(name="a", weight=D("0.5")), Component(name="b", weight=D("0.4"))]),  # sums to 0.9
    dict(components=[Component(name="a", weight=D("0.5")), Component(name="a", weight=D("0.5"))]),  # twice
    dict(bands=[Band(band=GradeBand.kha, floor=D("7")), Band(band=GradeBand.gioi, floor=D("8"))]),  # not best first
    dict(bands=[Band(band=GradeBand.khong_dat, floor=D("0"))]),
])
def test_inconsistent_schemes_are_refused(bad):
    with pytest.raises(ValidationError):
        rules(**bad)


def test_defining_a_scheme_again_is_a_new_version_and_the_default_is_built_in():
    first = next_version("so-cap", 0, rules())
    second = next_version("so-cap", first.version, rules(max_resits=2))
    assert (first.ref, second.ref) == ("so-cap@1", "so-cap@2")
    assert first.rules.max_resits == 1  # the old version is untouched
    with pytest.raises(Invalid):
        next_version("default", 1, rules())
    assert parse_ref("so-cap@2") == ("so-cap", 2) and parse_ref("so-cap") == ("so-cap", None)
    with pytest.raises(Invalid):
        parse_ref("so-cap@latest")


def test_a_score_stamps_its_component_band_and_scheme_version_and_later_versions_do_not_touch_it():
    who, v1 = learner(), next_version("so-cap", 0, rules())
    command = results.RecordScore(learner_id=who.learner_id, score=D("6.5"), component="essay")
    [event] = results.decide_record(command, who, results.Result(), v1)
    assert isinstance(event, ScoreRecorded)
    assert (event.component, event.scheme_version, event.grade_band) == ("essay", "so-cap@1", GradeBand.trung_binh)
    state = results.evolve(results.Result(), event)
    assert state.scheme_version == "so-cap@1" and state.scores == {"essay": D("6.5")}
    # a new version with stricter bands exists now: what was recorded keeps its version and band
    v2 = next_version("so-cap", 1, rules(bands=[Band(band=GradeBand.trung_binh, floor=D("7.0"))]))
    assert v2.band(D("6.5")) == GradeBand.khong_dat
    assert event.grade_band == GradeBand.trung_binh and event.scheme_version == "so-cap@1"


def test_the_single_score_endpoint_still_means_component_final_of_the_default_scheme():
    who = learner()
    [event] = results.decide_record(results.RecordScore(learner_id=who.learner_id, score=D("8.0")), who,
                                    results.Result())
    assert (event.component, event.scheme_version) == ("final", "default@1")


def test_a_component_not_in_the_scheme_is_refused_and_scores_after_finalisation_are_too():
    who, scheme = learner(), next_version("so-cap", 0, rules())
    with pytest.raises(Invalid) as e:
        results.decide_record(results.RecordScore(learner_id=who.learner_id, score=D("8")), who, results.Result(),
                              scheme)
    assert e.value.code == "component-unknown" and "written-test, essay" in e.value.detail
    with pytest.raises(Rejected) as e:
        results.decide_record(results.RecordScore(learner_id=who.learner_id, score=D("8")), who, results.Result(),
                              finalised=True)
    assert e.value.code == "results-finalised"


def test_conduct_is_rated_per_learner_and_the_same_rating_again_changes_nothing():
    who = learner()
    command = results.RateConduct(learner_id=who.learner_id, rating="tot", note="Gương mẫu")
    [event] = results.decide_conduct(command, who, results.Result())
    assert isinstance(event, ConductRated) and event.rating == "tot"
    state = results.evolve(results.Result(), event)
    assert state.conduct == "tot"
    assert results.decide_conduct(command, who, state) == []
    with pytest.raises(ValidationError):
        results.RateConduct(learner_id=who.learner_id, rating="xuat_sac")
    with pytest.raises(Rejected):
        results.decide_conduct(command, who, results.Result(), finalised=True)
