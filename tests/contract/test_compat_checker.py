"""The compatibility checker catches deliberately broken event schemas, and lets compatible changes through."""
import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ttct.contracts import ClassOpened, Envelope, LearnerEnrolled
from ttct_dev.compat import breaking_changes, validate

pytestmark = pytest.mark.unit
OPENED = ClassOpened.model_json_schema()
SAMPLE = json.loads((Path(__file__).parent / "samples/ClassOpened.v1.json").read_text(encoding="utf-8"))["payload"]


def changed(schema: dict, change: Callable[[dict], None]) -> dict:
    new = copy.deepcopy(schema)
    change(new)
    return new


def _rename(s: dict, old: str, new: str) -> None:
    s["properties"][new] = s["properties"].pop(old)
    s["required"] = [new if r == old else r for r in s["required"]]


def _add_required(s: dict) -> None:
    s["properties"]["room"] = {"type": "string", "title": "Room"}
    s["required"].append("room")


def _remove(s: dict) -> None:
    del s["properties"]["venue"]
    s["required"].remove("venue")


BREAKING = {
    "a field removed": (_remove, "property `venue` was removed"),
    "a field renamed": (lambda s: _rename(s, "venue", "location"), "renamed to `location`"),
    "a type changed": (lambda s: s["properties"]["capacity"].update(type="string"),
                       "`capacity` changed type from integer to string"),
    "a required field added": (_add_required, "new required property `room`"),
    "maxLength lowered": (lambda s: s["properties"]["title"].update(maxLength=100),
                          "`title`: maxLength lowered from 200 to 100"),
    "minimum raised": (lambda s: s["properties"]["capacity"].update(minimum=10),
                       "`capacity`: minimum raised from 1 to 10"),
    "maximum lowered": (lambda s: s["properties"]["capacity"].update(maximum=100),
                        "`capacity`: maximum lowered from 5000 to 100"),
    "minimum made exclusive": (lambda s: s["properties"]["capacity"].update(exclusiveMinimum=1),
                               "`capacity`: minimum raised from 1 to > 1"),
    "an enum value removed": (lambda s: s["$defs"]["ProgrammeType"]["enum"].remove("ky_nang"),
                              "`programme_type` no longer accepts the value(s) 'ky_nang'"),
    "a format changed": (lambda s: s["properties"]["starts_on"].update(format="date-time"),
                         "`starts_on` changed format from date to date-time"),
    "a pattern added": (lambda s: s["properties"]["venue"].update(pattern="^[A-Z]"), "`venue` changed pattern"),
}


@pytest.mark.parametrize("case", list(BREAKING))
def test_a_breaking_change_to_class_opened_is_reported_in_a_sentence(case):
    change, expected = BREAKING[case]
    changes = breaking_changes(OPENED, changed(OPENED, change))
    assert any(expected in c for c in changes), changes


def test_a_field_that_became_required_is_reported():
    schema = Envelope.model_json_schema()
    changes = breaking_changes(schema, changed(schema, lambda s: s["required"].append("causation_id")))
    assert changes == ["property `causation_id` became required"]


def test_a_field_that_is_no_longer_nullable_is_reported():
    schema = Envelope.model_json_schema()
    changes = breaking_changes(schema, changed(schema, lambda s: s["properties"]["causation_id"].update(
        anyOf=[{"type": "string", "format": "uuid"}])))
    assert changes == ["`causation_id` is no longer nullable"]


def test_a_change_inside_a_referenced_model_is_reported_with_its_path():
    schema = LearnerEnrolled.model_json_schema()
    new = changed(schema, lambda s: s["$defs"]["SendingOrganisation"]["properties"]["code"].update(maxLength=10))
    assert breaking_changes(schema, new) == ["`sending_organisation.code`: maxLength 10 added"]


def test_a_changed_default_of_an_optional_field_is_reported():
    schema = Envelope.model_json_schema()
    new = changed(schema, lambda s: s["properties"]["traceparent"].update(default="00-0-0-00"))
    assert breaking_changes(schema, new) == [
        "property `traceparent`: default changed from None to '00-0-0-00', so an event without it reads differently"]


def test_no_longer_accepting_additional_properties_is_reported():
    # Events are read tolerantly (extra fields ignored); a schema that starts forbidding them breaks publishers.
    strict = changed(OPENED, lambda s: s.update(additionalProperties=False))
    assert breaking_changes(OPENED, strict) == ["the event no longer accepts additional properties"]


def _add_optional(s: dict) -> None:
    s["properties"]["note"] = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Note"}


COMPATIBLE = {
    "nothing changed": lambda s: None,
    "an optional field added": _add_optional,
    "a description changed": lambda s: s["properties"]["venue"].update(description="where the class meets"),
    "maxLength raised": lambda s: s["properties"]["title"].update(maxLength=500),
    "maximum raised": lambda s: s["properties"]["capacity"].update(maximum=10_000),
    "minimum lowered": lambda s: s["properties"]["capacity"].update(minimum=0),
    "integer widened to number": lambda s: s["properties"]["capacity"].update(type="number"),
    "an enum value added": lambda s: s["$defs"]["ProgrammeType"]["enum"].append("moi"),
    "a required field made optional": lambda s: s["required"].remove("venue"),
    "a field made nullable": lambda s: s["properties"].update(
        venue={"anyOf": [s["properties"]["venue"], {"type": "null"}]}),
}


@pytest.mark.parametrize("case", list(COMPATIBLE))
def test_a_compatible_change_to_class_opened_is_not_reported(case):
    assert breaking_changes(OPENED, changed(OPENED, COMPATIBLE[case])) == []


def test_a_pydantic_model_with_one_more_optional_field_is_compatible():
    class ClassOpenedWithNote(ClassOpened):
        note: str | None = None

    assert breaking_changes(OPENED, ClassOpenedWithNote.model_json_schema()) == []


def test_validate_accepts_a_valid_event_and_names_what_is_wrong_with_an_invalid_one():
    assert validate(SAMPLE, OPENED) == []
    broken = {**SAMPLE, "capacity": 0, "starts_on": "01/12/2026", "programme_type": "x", "extra": 1}
    del broken["venue"]
    errors = validate(broken, changed(OPENED, lambda s: s.update(additionalProperties=False)))
    for expected in ("`venue` is required", "`capacity` is out of bounds", "`starts_on` is not a valid date",
                     "`programme_type` is not one of", "`extra` is not allowed"):
        assert any(expected in e for e in errors), (expected, errors)


def test_validate_refuses_a_keyword_it_does_not_know_rather_than_ignore_it():
    with pytest.raises(NotImplementedError, match="dependentRequired"):
        validate({}, {"type": "object", "dependentRequired": {"a": ["b"]}})
