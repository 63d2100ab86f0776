"""Changes to the map of sending organisations, pure: a merge into a new or an existing successor, renames, moves
and dissolutions, and the refusal that names the successor."""
from __future__ import annotations

from datetime import date

import pytest
from enrolment.domain import organisations as o
from enrolment.domain import reorganisation as r
from ttct.contracts.organisation_dissolved import OrganisationDissolved
from ttct.contracts.organisation_moved import OrganisationMoved
from ttct.contracts.organisation_renamed import OrganisationRenamed
from ttct.contracts.organisations_merged import OrganisationsMerged
from ttct.contracts.sending_organisation_registered import SendingOrganisationRegistered
from ttct.domain.errors import Invalid, Rejected

pytestmark = pytest.mark.unit
HEAD = {"name": "Lê Văn Bí", "role": "bí thư", "phone": "0912 345 678", "is_head": True}
DECISION = {"number": "1686/QĐ-UBND", "signed_on": "2025-05-14"}
DAY = date(2025, 7, 1)


def facts(code, kind="party-committee", parent=None, successor=None):
    return r.DirectoryFacts(code=code, name=f"Đảng ủy {code}", kind=kind, centre="hau-loc", parent_code=parent,
                            successor_code=successor, effective_on=DAY if successor else None)


KNOWN = {c: facts(c) for c in ("xa-a", "xa-b", "xa-c", "xa-old")}


def registered(code, kind="party-committee", parent=None) -> o.Organisation:
    return o.Organisation(registered=SendingOrganisationRegistered(
        code=code, name=f"Đảng ủy {code}", kind=kind, parent_code=parent, contacts=[HEAD]), version=1)


def merge(successor="xa-new", details=True, predecessors=("xa-a", "xa-b", "xa-c")) -> r.MergeOrganisations:
    return r.MergeOrganisations(
        predecessor_codes=list(predecessors), successor_code=successor, effective_on=DAY, decision=DECISION,
        successor={"name": "Đảng ủy xã Hậu Lộc", "kind": "party-committee", "centre": "hau-loc",
                   "contacts": [HEAD]} if details else None)


def test_a_merge_into_a_new_organisation_registers_it_then_records_the_merge_with_its_day_and_decision():
    registration, merged = r.decide_merge(merge(), KNOWN, None, o.Organisation())
    assert isinstance(registration, SendingOrganisationRegistered) and registration.code == "xa-new"
    assert isinstance(merged, OrganisationsMerged)
    assert (merged.predecessor_codes, merged.effective_on, merged.decision.number) == (
        ["xa-a", "xa-b", "xa-c"], DAY, "1686/QĐ-UBND")


def test_a_merge_into_an_existing_organisation_records_only_the_merge():
    [merged] = r.decide_merge(merge("xa-old", details=False), KNOWN, None, registered("xa-old"))
    assert isinstance(merged, OrganisationsMerged) and merged.successor_code == "xa-old"


@pytest.mark.parametrize(("change", "known", "state", "error", "code"), [
    (merge(details=False), KNOWN, o.Organisation(), Invalid, "successor-details-required"),
    (merge("xa-old"), KNOWN, registered("xa-old"), Rejected, "organisation-exists"),
    (merge(predecessors=("xa-a", "xa-zz")), KNOWN, o.Organisation(), Invalid, "organisation-unknown"),
    (merge(), {**KNOWN, "xa-b": facts("xa-b", successor="xa-x")}, o.Organisation(), Rejected,
     "organisation-succeeded"),
])
def test_a_merge_is_refused_for_unknown_or_already_merged_predecessors_and_a_successor_without_details(
        change, known, state, error, code):
    with pytest.raises(error) as refused:
        r.decide_merge(change, known, None, state)
    assert refused.value.code == code


def test_a_merge_names_each_predecessor_once_and_not_the_successor_among_them():
    with pytest.raises(ValueError):
        merge(predecessors=("xa-a", "xa-a"))
    with pytest.raises(ValueError):
        merge(predecessors=("xa-a", "xa-new"))


def test_a_rename_keeps_the_code_and_the_previous_name_and_the_same_name_is_no_change():
    command = r.RenameOrganisation(name="Đảng ủy xã A mới", effective_on=DAY, decision=DECISION)
    [renamed] = r.decide_rename("xa-a", command, KNOWN, registered("xa-a"))
    assert isinstance(renamed, OrganisationRenamed) and renamed.previous_name == "Đảng ủy xa-a"
    assert o.evolve(registered("xa-a"), renamed).registered.name == "Đảng ủy xã A mới"
    same = r.RenameOrganisation(name="Đảng ủy xa-a", effective_on=DAY, decision=DECISION)
    assert r.decide_rename("xa-a", same, KNOWN, registered("xa-a")) == []


def test_a_move_follows_the_hierarchy_rules():
    cell = {"cell": facts("cell", kind="party-cell", parent="xa-a"), **KNOWN}
    state = registered("cell", kind="party-cell", parent="xa-a")
    parent = o.ParentFacts(code="xa-b", kind="party-committee", centre="hau-loc")
    [moved] = r.decide_move("cell", r.MoveOrganisation(parent_code="xa-b", effective_on=DAY, decision=DECISION),
                            cell, parent, state)
    assert isinstance(moved, OrganisationMoved) and (moved.previous_parent_code, moved.parent_code) == ("xa-a", "xa-b")
    with pytest.raises(Invalid) as refused:
        r.decide_move("cell", r.MoveOrganisation(parent_code="nowhere", effective_on=DAY, decision=DECISION),
                      cell, None, state)
    assert refused.value.code == "parent-unknown"


def test_a_dissolution_hands_over_to_the_parent_unless_it_names_a_successor():
    cell = {"cell": facts("cell", kind="party-cell", parent="xa-a"), **KNOWN}
    state = registered("cell", kind="party-cell", parent="xa-a")
    [dissolved] = r.decide_dissolve("cell", r.DissolveOrganisation(effective_on=DAY, decision=DECISION), cell, state)
    assert isinstance(dissolved, OrganisationDissolved) and dissolved.successor_code == "xa-a"
    with pytest.raises(Invalid) as refused:
        r.decide_dissolve("xa-b", r.DissolveOrganisation(effective_on=DAY, decision=DECISION), KNOWN,
                          registered("xa-b"))
    assert refused.value.code == "successor-required"


def test_a_code_merged_away_is_refused_naming_its_successor_in_both_languages():
    succession = r.Succession(code="xa-a", successor_code="xa-new", successor_name="Đảng ủy xã Hậu Lộc",
                              effective_on=DAY, decision_number="1686/QĐ-UBND")
    with pytest.raises(Invalid) as refused:
        r.check_not_succeeded("xa-a", {"xa-a": succession}, "body.sending_organisation.code")
    assert refused.value.code == "organisation-succeeded" and refused.value.extra["successor_code"] == "xa-new"
    assert "xa-new" in refused.value.detail and "Đảng ủy xã Hậu Lộc" in refused.value.detail_vi
    assert "01/07/2025" in refused.value.detail_vi
    r.check_not_succeeded("xa-b", {"xa-a": succession}, "body.sending_organisation.code")  # others pass
