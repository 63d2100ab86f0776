"""Clash overlap logic, the programme catalogue's defaults and the lecturer register's rules, pure."""
from datetime import date, time
from decimal import Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError
from scheduling.domain.clashes import Booking, Resource, Slot, clash_refusal, find_clash, resource_key
from scheduling.domain.lecturers import LecturerKind, RegisterLecturer
from scheduling.domain.programmes import (
    DefineProgramme,
    Programme,
    decide_define,
    default_catalogue,
    default_code,
    programme_for_class,
)
from ttct.contracts.types import ProgrammeType
from ttct.domain.errors import Invalid, Rejected

pytestmark = pytest.mark.unit
DAY = date(2026, 12, 2)


def slot(start: str, end: str, on: date = DAY) -> Slot:
    return Slot(on, time.fromisoformat(start), time.fromisoformat(end))


@pytest.mark.parametrize("a, b, clash", [
    (("07:30", "11:00"), ("07:30", "11:00"), True),   # the same slot
    (("07:30", "11:00"), ("10:59", "12:00"), True),   # one minute's overlap
    (("07:30", "11:00"), ("08:00", "09:00"), True),   # inside
    (("08:00", "09:00"), ("07:30", "11:00"), True),   # around
    (("07:30", "11:00"), ("11:00", "12:00"), False),  # back to back: [start, end)
    (("13:30", "17:00"), ("07:30", "11:00"), False),  # morning and afternoon
])
def test_two_slots_clash_when_their_half_open_intervals_overlap_on_the_same_day(a, b, clash):
    assert slot(*a).overlaps(slot(*b)) is clash
    assert slot(*b).overlaps(slot(*a)) is clash


def test_the_same_hours_on_another_day_do_not_clash():
    assert not slot("07:30", "11:00").overlaps(slot("07:30", "11:00", date(2026, 12, 3)))


@pytest.mark.parametrize("start, end", [("11:00", "11:00"), ("11:00", "07:30")])
def test_a_slot_must_end_after_it_starts(start, end):
    with pytest.raises(Invalid):
        slot(start, end)


def booking(kind: Resource, key: str, at: Slot, **kw) -> Booking:
    return Booking(kind=kind, key=key, label=kw.get("label", "Lê Văn Giảng"), session_id=uuid4(),
                   centre=kw.get("centre", "hau-loc"), class_title=kw.get("title", "Lớp đảng viên mới"), slot=at)


def test_a_clash_is_the_same_lecturer_or_venue_at_an_overlapping_time_anywhere_in_the_province():
    lecturer = resource_key(Resource.lecturer, uuid4())
    held = [booking(Resource.lecturer, lecturer, slot("07:30", "11:00"), centre="hoang-hoa")]
    assert find_clash(Resource.lecturer, lecturer, slot("09:00", "10:00"), held) is held[0]
    someone_else = resource_key(Resource.lecturer, uuid4())
    assert find_clash(Resource.lecturer, someone_else, slot("09:00", "10:00"), held) is None
    assert find_clash(Resource.lecturer, lecturer, slot("11:00", "12:00"), held) is None


def test_venues_are_keyed_by_centre_so_same_named_halls_of_two_centres_do_not_clash():
    assert resource_key(Resource.venue, "Hội trường", "hau-loc") != resource_key(Resource.venue, "Hội trường", "nga-son")


def test_a_clash_refusal_names_the_clashing_session_class_date_and_time():
    held = booking(Resource.lecturer, "lecturer:x", slot("07:30", "11:00"), title="Lớp kết nạp Đảng đợt 2")
    refusal = clash_refusal(held)
    assert isinstance(refusal, Rejected) and refusal.status == 409 and refusal.code == "lecturer-clash"
    assert "Lớp kết nạp Đảng đợt 2" in refusal.detail and "02/12/2026 07:30–11:00" in refusal.detail
    assert "Giảng viên Lê Văn Giảng" in refusal.detail_vi
    assert refusal.extra["clashing_session"]["class_title"] == "Lớp kết nạp Đảng đợt 2"
    venue = clash_refusal(booking(Resource.venue, "venue:hau-loc:Hội trường", slot("07:30", "11:00"),
                                  label="Hội trường"))
    assert venue.code == "venue-clash" and "venue Hội trường" in venue.detail


def test_the_default_catalogue_has_one_programme_per_type_with_the_brief_defaults():
    catalogue = default_catalogue()
    assert {p.programme_type for p in catalogue} == set(ProgrammeType)
    assert len(catalogue) == len(ProgrammeType)
    for p in catalogue:
        assert p.code == default_code(p.programme_type)
        assert p.max_absence_ratio == Decimal("0.2") and p.excused_absences_count is False
        assert p.assessment_scheme == "default@1" and p.planned_sessions > 0
    assert default_code(ProgrammeType.so_cap_llct) == "so-cap-llct"


def test_a_class_takes_the_named_programme_which_must_exist_and_be_of_its_type():
    programme = default_catalogue()[0]
    assert programme_for_class(programme.programme_type, programme, None) is programme
    with pytest.raises(Invalid) as unknown:
        programme_for_class(ProgrammeType.chuyen_de, None, "khong-co")
    assert unknown.value.code == "programme-unknown"
    other = next(t for t in ProgrammeType if t is not programme.programme_type)
    with pytest.raises(Invalid) as mismatch:
        programme_for_class(other, programme, programme.code)
    assert mismatch.value.code == "programme-type-mismatch"


def test_a_programme_s_defaults_can_change_but_not_its_type():
    existing = default_catalogue()[0]
    changed = decide_define(existing.code, DefineProgramme(programme_type=existing.programme_type, name="Mới",
                                                           planned_sessions=24, max_absence_ratio=Decimal("0.1"),
                                                           excused_absences_count=True,
                                                           assessment_scheme="so-cap@2"), existing)
    assert isinstance(changed, Programme) and changed.planned_sessions == 24
    with pytest.raises(Rejected):
        decide_define(existing.code, DefineProgramme(programme_type=ProgrammeType.ky_nang, name="x",
                                                     planned_sessions=1), existing)


@pytest.mark.parametrize("bad", [dict(max_absence_ratio=Decimal("1.5")), dict(max_absence_ratio=Decimal("-0.1")),
                                 dict(planned_sessions=-1), dict(assessment_scheme="no-version")])
def test_programme_defaults_are_validated(bad):
    with pytest.raises(ValidationError):
        DefineProgramme(**{"programme_type": ProgrammeType.ky_nang, "name": "Kỹ năng", "planned_sessions": 4, **bad})


def test_lecturers_are_of_four_kinds_and_in_house_or_part_time_ones_belong_to_a_centre():
    assert {k.value for k in LecturerKind} == {"in_house", "part_time", "collaborator", "party_leader"}
    RegisterLecturer(full_name="Đỗ Thị Lan", kind="party_leader", position="Phó Bí thư Huyện ủy")
    RegisterLecturer(full_name="Đỗ Thị Lan", kind="collaborator")
    for kind in ("in_house", "part_time"):
        with pytest.raises(ValidationError):
            RegisterLecturer(full_name="Đỗ Thị Lan", kind=kind)
        RegisterLecturer(full_name="Đỗ Thị Lan", kind=kind, home_centre="hau-loc")
