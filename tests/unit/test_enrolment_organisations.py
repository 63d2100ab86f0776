"""The directory of sending organisations, pure: the hierarchy, the head contact, register versus update."""
from __future__ import annotations

import pytest
from enrolment.domain import organisations as o
from ttct.contracts.sending_organisation_registered import SendingOrganisationRegistered
from ttct.contracts.types import OrganisationContact, SendingOrganisation
from ttct.domain.errors import Invalid, NotFound, Rejected

pytestmark = pytest.mark.unit
HEAD = {"name": "Lê Văn Bí", "role": "head of party committee", "phone": "0912 345 678", "is_head": True}
AREA = o.ParentFacts(code="hau-loc", kind="centre-area", centre="hau-loc")
COMMITTEE = o.ParentFacts(code="xa-hoa-loc", kind="party-committee", centre="hau-loc")


def command(kind="party-committee", parent="hau-loc", code="xa-hoa-loc", contacts=(HEAD,), **kw):
    return o.RegisterOrganisation(code=code, name="Đảng ủy xã Hoa Lộc", kind=kind, parent_code=parent,
                                  centre="hau-loc", contacts=list(contacts), **kw)


def test_a_new_organisation_is_registered_under_its_parent_with_its_head_contact():
    [event] = o.decide_register(command(), AREA, o.Organisation(), update=False)
    assert isinstance(event, SendingOrganisationRegistered) and event.parent_code == "hau-loc"
    assert event.contacts[0].is_head and event.kind == "party-committee"


@pytest.mark.parametrize(("kind", "parent", "facts", "code"), [
    ("centre-area", "hau-loc", AREA, "parent-not-allowed"),     # a centre area is the top
    ("party-cell", None, None, "parent-required"),              # a party cell belongs somewhere
    ("party-cell", "hau-loc", AREA, "parent-not-allowed"),      # ... not directly to the centre area
    ("commune", "xa-hoa-loc", COMMITTEE, "parent-not-allowed"),  # a commune belongs to a centre area
    ("party-committee", "khong-co", None, "parent-unknown"),
    ("party-committee", "xa-hoa-loc", None, "parent-not-allowed"),  # itself
])
def test_the_hierarchy_is_centre_area_then_committees_communes_mass_organisations_then_party_cells(
        kind, parent, facts, code):
    with pytest.raises(Invalid) as refused:
        o.decide_register(command(kind=kind, parent=parent), facts, o.Organisation(), update=False)
    assert refused.value.code == code


def test_a_party_cell_under_a_committee_of_another_centre_s_area_is_refused():
    elsewhere = o.ParentFacts(code="xa-x", kind="commune", centre="nga-son")
    with pytest.raises(Invalid) as refused:
        o.decide_register(command(kind="party-cell", parent="xa-x", code="chi-bo-1"), elsewhere, o.Organisation(),
                          update=False)
    assert refused.value.code == "centre-mismatch"
    [ok] = o.decide_register(command(kind="party-cell", parent="xa-hoa-loc", code="chi-bo-1"), COMMITTEE,
                             o.Organisation(), update=False)
    assert ok.parent_code == "xa-hoa-loc"


def test_every_organisation_but_a_centre_area_names_exactly_one_head_of_its_party_committee():
    office = {"name": "Văn phòng", "role": "office", "email": "vp@hoaloc.vn"}
    with pytest.raises(Invalid) as refused:
        o.decide_register(command(contacts=[office]), AREA, o.Organisation(), update=False)
    assert refused.value.code == "head-contact-missing"
    with pytest.raises(Invalid) as refused:
        o.decide_register(command(contacts=[HEAD, {**HEAD, "name": "Người khác"}]), AREA, o.Organisation(),
                          update=False)
    assert refused.value.code == "two-heads"
    assert o.decide_register(command(kind="centre-area", parent=None, code="hau-loc", contacts=[]), None,
                             o.Organisation(), update=False)


def test_registering_an_existing_code_is_refused_and_updating_an_unknown_one_is_not_found():
    [event] = o.decide_register(command(), AREA, o.Organisation(), update=False)
    state = o.evolve(o.Organisation(), event)
    with pytest.raises(Rejected) as refused:
        o.decide_register(command(), AREA, state, update=False)
    assert refused.value.code == "organisation-exists"
    with pytest.raises(NotFound):
        o.decide_register(command(), AREA, o.Organisation(), update=True)


def test_an_update_publishes_again_only_when_something_changed():
    [event] = o.decide_register(command(), AREA, o.Organisation(), update=False)
    state = o.evolve(o.Organisation(), event)
    assert o.decide_register(command(), AREA, state, update=True, current_centre="hau-loc") == []
    new_head = {**HEAD, "name": "Trần Thị Hoa"}
    [again] = o.decide_register(command(contacts=[new_head]), AREA, state, update=True, current_centre="hau-loc")
    assert again.contacts == [OrganisationContact(**new_head)]


def test_contacts_are_checked_and_names_nfc_normalised():
    with pytest.raises(ValueError):
        OrganisationContact(name="A", role="office", email="not-an-email")
    assert OrganisationContact(name="Le\u0302 Va\u0306n", role="office").name == "Lê Văn"


def test_an_enrolment_names_its_organisation_as_the_directory_does_and_an_unregistered_code_is_refused():
    directory = {"xa-hoa-loc": "Đảng ủy xã Hoa Lộc"}
    assert o.sending_organisation("xa-hoa-loc", directory) == SendingOrganisation(code="xa-hoa-loc",
                                                                                    name="Đảng ủy xã Hoa Lộc")
    with pytest.raises(Invalid) as refused:
        o.sending_organisation("xa-hoa-loc-cu", directory)
    assert refused.value.code == "organisation-not-registered" and refused.value.status == 422
    assert "xa-hoa-loc-cu" in refused.value.detail and "xa-hoa-loc-cu" in refused.value.detail_vi
    assert refused.value.extra["errors"] == [{"field": "body.sending_organisation.code",
                                              "message": refused.value.detail}]


def test_a_decision_number_of_an_organisation_names_one_decision_and_a_citation_differing_from_it_is_refused():
    from datetime import date

    from enrolment.domain import decisions
    from ttct.contracts.types import DispatchDecision
    first = DispatchDecision(number="125-QĐ/ĐU", signed_on=date(2027, 2, 20), signer="Ban Thường vụ Đảng ủy")
    recorded = {("xa-hoa-loc", "125-QĐ/ĐU"): first.model_dump(mode="json")}
    decisions.check("xa-hoa-loc", first, recorded)  # the same decision again
    decisions.check("xa-da-loc", first.model_copy(update={"signer": "Đảng ủy xã Đa Lộc"}), recorded)  # another's
    with pytest.raises(Rejected) as refused:
        decisions.check("xa-hoa-loc", first.model_copy(update={"signed_on": date(2027, 2, 21)}), recorded)
    assert refused.value.code == "dispatch-decision-differs" and refused.value.status == 409
    assert "20/02/2027" in refused.value.detail and "21/02/2027" in refused.value.detail_vi
