"""The faults harness's check that projections equal a rebuild (ttct_dev.faults.rebuilt): which rows it reports."""
import pytest
from ttct_dev.faults.rebuilt import Difference, compare, tables_reset

pytestmark = pytest.mark.unit

LEARNER = (("organisation_code", "SO-NOI-VU"), ("class_id", "c1"), ("learner_id", "l1"))
OTHER = (("organisation_code", "SO-NOI-VU"), ("class_id", "c1"), ("learner_id", "l2"))


def _live() -> dict:
    return {"organisation_learners": {LEARNER: {"full_name": "Nguyễn Văn An", "score": 8.5},
                                      OTHER: {"full_name": "Trần Thị Bình", "score": 7.0}},
            "classes": {(("class_id", "c1"),): {"title": "Trung cấp lý luận chính trị K12"}}}


def test_projections_equal_to_their_rebuild_in_another_row_order_show_no_difference():
    live = _live()
    rebuilt = {table: dict(reversed(list(rows.items()))) for table, rows in reversed(list(live.items()))}
    assert compare(live, rebuilt) == []


def test_a_tampered_row_is_reported_with_its_table_key_and_both_values():
    rebuilt = _live()
    live = _live()
    live["organisation_learners"][OTHER] = {"full_name": "Trần Thị Bình", "score": 0.0}
    [difference] = compare(live, rebuilt)
    assert difference == Difference("organisation_learners",
                                    "organisation_code=SO-NOI-VU, class_id=c1, learner_id=l2",
                                    {"full_name": "Trần Thị Bình", "score": 0.0},
                                    {"full_name": "Trần Thị Bình", "score": 7.0})
    assert "learner_id=l2" in str(difference) and "0.0" in str(difference) and "7.0" in str(difference)


def test_a_row_only_the_live_projection_has_and_one_only_the_rebuild_has_are_both_reported():
    rebuilt, live = _live(), _live()
    del live["organisation_learners"][LEARNER]  # an event the live consumer never applied
    rebuilt["classes"].pop((("class_id", "c1"),))  # a row no event accounts for
    differences = compare(live, rebuilt)
    assert [(d.table, d.before is None, d.after is None) for d in differences] == [
        ("classes", False, True), ("organisation_learners", True, False)]


def test_the_tables_a_rebuild_resets_are_named_from_its_statements_too():
    assert tables_reset(["class_sessions", "class_learners", "DELETE FROM class_facts WHERE pinned_scheme IS NULL",
                         "UPDATE class_facts SET opened = false"]) == ["class_sessions", "class_learners",
                                                                       "class_facts"]
