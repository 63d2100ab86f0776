"""The province's register of centres, pure: registering, renaming and merging centres (enrolment's decide
functions), whom a token reaches once centres merged (ttct.http.auth), and figures read by today's map of centres."""
from __future__ import annotations

from datetime import date

import pytest
from assessment.figures.tally import figures
from enrolment.domain import centres as c
from ttct.centres import Succession, check_opens_classes
from ttct.contracts.centre_registered import CentreRegistered
from ttct.contracts.centre_renamed import CentreRenamed
from ttct.contracts.centres_merged import CentresMerged
from ttct.domain.errors import Invalid, NotFound, Rejected
from ttct.http.auth import Forbidden, Principal, Role, centre_scope, follow_successions

pytestmark = pytest.mark.unit
DAY = date(2026, 7, 1)
DECISION = {"number": "1703/QĐ-UBND", "signed_on": "2026-06-15"}
NAMES = {"hau-loc": "Trung tâm Chính trị huyện Hậu Lộc", "nga-son": "Trung tâm Chính trị huyện Nga Sơn",
         "hoang-hoa": "Trung tâm Chính trị huyện Hoằng Hóa"}


def registered(code: str) -> c.Centre:
    state = c.Centre()
    for event in c.decide_register(c.RegisterCentre(code=code, name=NAMES[code], effective_on=date(2026, 1, 1)),
                                   state):
        state = c.evolve(state, event)
    return state


def facts(merged_into: dict[str, str] | None = None) -> dict[str, c.CentreFacts]:
    merged_into = merged_into or {}
    return {code: c.CentreFacts(code=code, name=name, successor_code=merged_into.get(code),
                                effective_on=DAY if code in merged_into else None) for code, name in NAMES.items()}


def merge(*predecessors: str, kind: str = "merged") -> c.MergeCentres:
    return c.MergeCentres(predecessor_codes=list(predecessors), successor_code="hau-loc", kind=kind,
                          effective_on=DAY, decision=DECISION)


def test_a_centre_is_registered_once_and_the_same_registration_again_changes_nothing():
    command = c.RegisterCentre(code="hau-loc", name=NAMES["hau-loc"], parent_body="Huyện ủy Hậu Lộc",
                               effective_on=date(2026, 1, 1))
    [event] = c.decide_register(command, c.Centre())
    assert isinstance(event, CentreRegistered) and event.parent_body == "Huyện ủy Hậu Lộc"
    state = c.evolve(c.Centre(), event)
    assert c.decide_register(command, state) == []
    with pytest.raises(Rejected) as refused:
        c.decide_register(command.model_copy(update={"name": "Khác"}), state)
    assert refused.value.code == "centre-exists"


def test_a_rename_keeps_the_previous_name_and_an_unknown_centre_cannot_be_renamed():
    rename = c.RenameCentre(name="Trung tâm Chính trị khu vực Hậu Lộc", effective_on=DAY, decision=DECISION)
    [event] = c.decide_rename("hau-loc", rename, facts(), registered("hau-loc"))
    assert isinstance(event, CentreRenamed)
    assert (event.previous_name, event.name, event.effective_on) == (NAMES["hau-loc"], rename.name, DAY)
    assert c.decide_rename("hau-loc", rename.model_copy(update={"name": NAMES["hau-loc"]}), facts(),
                           registered("hau-loc")) == []
    with pytest.raises(NotFound):
        c.decide_rename("tinh-gia", rename, facts(), c.Centre())


def test_a_merge_names_each_predecessor_by_its_name_then_and_says_how_it_carries_on():
    [event] = c.decide_merge(merge("nga-son", "hoang-hoa", kind="site"), facts(), registered("hau-loc"))
    assert isinstance(event, CentresMerged)
    assert (event.successor_code, event.successor_name, event.kind) == ("hau-loc", NAMES["hau-loc"], "site")
    assert event.predecessor_names == [NAMES["nga-son"], NAMES["hoang-hoa"]]


def test_a_merge_refuses_unknown_or_already_merged_centres_and_an_unregistered_successor():
    with pytest.raises(Invalid) as unknown:
        c.decide_merge(merge("tinh-gia"), facts(), registered("hau-loc"))
    assert unknown.value.code == "centre-unknown"
    with pytest.raises(Rejected) as again:
        c.decide_merge(merge("nga-son"), facts({"nga-son": "hau-loc"}), registered("hau-loc"))
    assert (again.value.code, again.value.extra["successor_code"]) == ("centre-merged", "hau-loc")
    with pytest.raises(NotFound):
        c.decide_merge(merge("nga-son"), facts(), c.Centre())
    with pytest.raises(ValueError):
        merge("hau-loc")
    with pytest.raises(ValueError):
        merge("nga-son", "nga-son")


def succession(successor: str, kind: str = "merged") -> Succession:
    return Succession(code="", successor_code=successor, successor_name=NAMES[successor], kind=kind,
                      effective_on=DAY)


def staff(*centres: str) -> Principal:
    return Principal(subject="s", role=Role.centre_staff, province="thanh-hoa", centres=frozenset(centres))


def test_the_successors_staff_reach_the_predecessors_through_chains_too():
    # Nga Sơn merged into Hoằng Hóa, Hoằng Hóa into Hậu Lộc: the register answers each with the chain's end
    chain = {"nga-son": succession("hau-loc"), "hoang-hoa": succession("hau-loc")}
    caller = follow_successions(staff("hau-loc"), chain)
    assert caller.centres == {"hau-loc", "nga-son", "hoang-hoa"} and caller.merged_away == ()
    assert caller.inherited == {"nga-son", "hoang-hoa"}  # its own centre stays the one its papers are issued by
    centre_scope(caller, "nga-son", "classes:read")
    assert caller.rows().centres == {"hau-loc", "nga-son", "hoang-hoa"}  # row-level security alike


def test_a_token_naming_only_a_merged_centre_is_refused_naming_the_successor_but_a_sites_is_not():
    caller = follow_successions(staff("nga-son"), {"nga-son": succession("hau-loc")})
    assert caller.centres == frozenset()
    with pytest.raises(Forbidden) as refused:
        centre_scope(caller, "nga-son", "classes:read")
    assert (refused.value.code, refused.value.extra["successor_code"]) == ("centre-merged", "hau-loc")
    with pytest.raises(NotFound):  # the successor's own classes stay out of reach: a token for it is needed
        centre_scope(caller, "hau-loc", "classes:read")
    site = follow_successions(staff("nga-son"), {"nga-son": succession("hau-loc", kind="site")})
    assert site.centres == {"nga-son"}
    both = follow_successions(staff("nga-son", "hau-loc"), {"nga-son": succession("hau-loc")})
    assert both.centres == {"nga-son", "hau-loc"} and both.merged_away == () and both.inherited == frozenset()


def test_nothing_changes_for_a_province_admin_or_without_successions():
    admin = Principal(subject="a", role=Role.province_admin, province="thanh-hoa")
    assert follow_successions(admin, {"nga-son": succession("hau-loc")}) is admin
    assert follow_successions(staff("nga-son"), {}) == staff("nga-son")


def test_figures_by_todays_map_of_centres_roll_a_predecessor_up_and_keep_the_totals():
    rows = {
        "classes": [{"centre": "hau-loc", "programme_type": "so_cap_llct", "classes": 2, "cancelled_classes": 0},
                    {"centre": "nga-son", "programme_type": "so_cap_llct", "classes": 1, "cancelled_classes": 0},
                    {"centre": "hoang-hoa", "programme_type": "so_cap_llct", "classes": 4, "cancelled_classes": 0}],
        "places": [{"centre": code, "programme_type": "so_cap_llct", "organisation_code": f"xa-{code}",
                    "organisation_name": "Xã", "places": n} for code, n in (("hau-loc", 20), ("nga-son", 9),
                                                                              ("hoang-hoa", 40))],
        "results": [],
    }
    merged = {"nga-son": "hau-loc"}
    recorded = figures(2026, None, rows)
    today = figures(2026, None, rows, {}, merged)
    assert [(x.centre, x.classes, x.places) for x in recorded.by_centre] == [
        ("hau-loc", 2, 20), ("hoang-hoa", 4, 40), ("nga-son", 1, 9)]
    assert [(x.centre, x.classes, x.places) for x in today.by_centre] == [("hau-loc", 3, 29), ("hoang-hoa", 4, 40)]
    assert today.total == recorded.total
    # a successor's figures: its own and its predecessors' rows, not another centre's
    mine = figures(2026, "hau-loc", rows, {}, merged)
    assert (mine.total.classes, mine.total.places) == (3, 29)
    theirs = figures(2026, "nga-son", rows, {}, merged)
    assert (theirs.total.classes, theirs.total.places) == (1, 9)


def test_a_centre_merged_away_opens_no_new_class_but_a_site_does():
    with pytest.raises(Invalid) as refused:
        check_opens_classes("nga-son", {"nga-son": succession("hau-loc")})
    assert (refused.value.code, refused.value.extra["successor_code"]) == ("centre-merged", "hau-loc")
    check_opens_classes("nga-son", {"nga-son": succession("hau-loc", kind="site")})
    check_opens_classes("hau-loc", {"nga-son": succession("hau-loc")})
