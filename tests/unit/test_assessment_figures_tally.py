"""What the figures count, from the grouped rows of the figure tables (assessment/figures/tally.py)."""
import pytest

from assessment.figures.tally import figures

pytestmark = pytest.mark.unit


def rows():
    return {
        "classes": [
            {"centre": "hau-loc", "programme_type": "so_cap_llct", "classes": 2, "cancelled_classes": 1},
            {"centre": "hau-loc", "programme_type": "ket_nap_dang", "classes": 1, "cancelled_classes": 0},
            {"centre": "nga-son", "programme_type": "so_cap_llct", "classes": 3, "cancelled_classes": 0},
        ],
        "places": [
            {"centre": "hau-loc", "programme_type": "so_cap_llct", "organisation_code": "xa-a",
             "organisation_name": "Xã A", "places": 50},
            {"centre": "hau-loc", "programme_type": "ket_nap_dang", "organisation_code": "xa-a",
             "organisation_name": "Xã A", "places": 10},
            {"centre": "nga-son", "programme_type": "so_cap_llct", "organisation_code": "xa-b",
             "organisation_name": "Xã B", "places": 7},
        ],
        "results": [
            {"centre": "hau-loc", "programme_type": "so_cap_llct", "organisation_code": "xa-a",
             "organisation_name": "Xã A", "eligible": True, "passed": True, "grade_band": "gioi", "learners": 6,
             "sessions_attended": 58, "sessions_counted": 60},
            {"centre": "hau-loc", "programme_type": "so_cap_llct", "organisation_code": "xa-a",
             "organisation_name": "Xã A", "eligible": True, "passed": False, "grade_band": "khong_dat",
             "learners": 1, "sessions_attended": 8, "sessions_counted": 10},
            {"centre": "nga-son", "programme_type": "so_cap_llct", "organisation_code": "xa-b",
             "organisation_name": "Xã B", "eligible": False, "passed": False, "grade_band": None, "learners": 1,
             "sessions_attended": 2, "sessions_counted": 10},
        ],
    }


def test_totals_count_open_classes_with_cancelled_ones_apart_and_places_per_programme_and_organisation():
    f = figures(2024, None, rows())
    assert (f.total.classes, f.total.cancelled_classes, f.total.places) == (6, 1, 67)
    assert {(l.programme_type, l.classes, l.places) for l in f.by_programme_type} == {
        ("so_cap_llct", 5, 57), ("ket_nap_dang", 1, 10)}
    assert [(l.organisation_code, l.places) for l in f.by_organisation] == [("xa-a", 60), ("xa-b", 7)]
    assert [(c.centre, c.classes, c.places) for c in f.by_centre] == [("hau-loc", 3, 60), ("nga-son", 3, 7)]


def test_pass_rate_is_passed_over_finalised_and_grades_count_eligible_learners_by_band():
    f = figures(2024, None, rows())
    r = f.total.results
    assert (r.finalised, r.passed, r.ineligible, r.pass_rate) == (8, 6, 1, 0.75)
    assert r.grades == {"xuat_sac": 0, "gioi": 6, "kha": 0, "trung_binh": 0, "khong_dat": 1}
    ket_nap = next(l for l in f.by_programme_type if l.programme_type == "ket_nap_dang")
    assert ket_nap.results.finalised == 0 and ket_nap.results.pass_rate is None


def test_a_centres_figures_have_no_per_centre_lines():
    assert figures(2024, "hau-loc", rows()).by_centre == []


def test_attendance_is_the_finalised_learners_sessions_attended_over_sessions_counted():
    f = figures(2024, None, rows())
    assert (f.total.results.sessions_attended, f.total.results.sessions_counted) == (68, 80)
    assert f.total.results.attendance_rate == 0.85
    assert [(c.centre, c.results.attendance_rate) for c in f.by_centre] == [("hau-loc", 0.9429), ("nga-son", 0.2)]
    ket_nap = next(l for l in f.by_programme_type if l.programme_type == "ket_nap_dang")
    assert ket_nap.results.attendance_rate is None  # no result yet: no rate, not 0


def test_by_todays_map_merged_organisations_add_up_into_their_successor_and_totals_do_not_change():
    recorded = figures(2024, None, rows())
    today = figures(2024, None, rows(), {"xa-a": ("xa-moi", "Xã Mới"), "xa-b": ("xa-moi", "Xã Mới")})
    assert (recorded.map, today.map) == ("recorded", "today")
    assert today.total == recorded.total and today.by_centre == recorded.by_centre
    [line] = today.by_organisation
    assert (line.organisation_code, line.organisation_name, line.places) == ("xa-moi", "Xã Mới", 67)
    assert line.results.finalised == sum(x.results.finalised for x in recorded.by_organisation) == 8
    assert line.results.passed == 6 and line.results.ineligible == 1
