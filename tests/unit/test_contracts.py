import json
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import ValidationError
from ttct.contracts import UPCASTERS, ClassOpened, Envelope, EventMetadata, ScoreRecorded, UnknownEvent, read_event
from ttct.contracts.session_scheduled import SessionScheduled
from ttct.contracts.types import GradeBand, SendingOrganisation
from ttct.eventsourcing.eventstore import make_envelopes
from ttct.privacy.personal import legacy_sealed

pytestmark = pytest.mark.unit
META = EventMetadata(province="thanh-hoa", centre="hau-loc", correlation_id=uuid4())


def opened(**overrides):
    fields = dict(class_id=uuid4(), programme_type="so_cap_llct", title="Lớp Sơ cấp LLCT", capacity=30,
                  starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 20), venue="Hội trường")
    return ClassOpened(**{**fields, **overrides})


def test_envelope_round_trips_through_json_and_back_to_the_same_event():
    event = opened()
    [env] = make_envelopes("scheduling:class:x", 0, [event], META, now=datetime.now(UTC), new_id=uuid4)
    again = Envelope.model_validate_json(env.model_dump_json())
    assert again == env
    assert read_event(again) == event
    assert env.subject == "ttct.thanh-hoa.hau-loc.scheduling.ClassOpened"
    assert env.stream_version == 1 and env.schema_version == ClassOpened.schema_version


def test_an_envelope_made_here_reads_as_its_event_and_is_equal_to_its_copy_read_back_from_json():
    lid = uuid4()
    event = ScoreRecorded(class_id=uuid4(), class_title="Lớp Sơ cấp LLCT", learner_id=lid,
                          personal=legacy_sealed(lid, "Lê Thị Hoa"),
                          sending_organisation=SendingOrganisation(code="xa-hoa-loc", name="Đảng ủy xã Hòa Lộc"),
                          score=Decimal("10"), grade_band=GradeBand.xuat_sac)
    [env] = make_envelopes("assessment:result:x", 0, [event], META, now=datetime.now(UTC), new_id=uuid4)
    again = Envelope.model_validate_json(env.model_dump_json())
    assert read_event(env) is event  # not validated a second time
    assert read_event(again) == event and again == env and env == again
    assert env.model_dump() == again.model_dump() and env.model_dump_json() == again.model_dump_json()
    assert "decided" not in repr(env)
    assert again.model_copy(update={"stream_version": 2}) == env.model_copy(update={"stream_version": 2})


def test_envelopes_number_versions_after_the_expected_one():
    events = [opened(), opened()]
    envs = make_envelopes("s", 4, events, META, now=datetime.now(UTC), new_id=uuid4)
    assert [e.stream_version for e in envs] == [5, 6]


def test_vietnamese_names_are_stored_nfc_normalised_and_trimmed():
    decomposed = unicodedata.normalize("NFD", "  Nguyễn   Thị Hồng ")
    org = SendingOrganisation(code="xa-hoa-loc", name=decomposed)
    assert org.name == unicodedata.normalize("NFC", "Nguyễn Thị Hồng")


def test_text_already_normalised_is_kept_as_the_general_path_would_make_it():
    """`_nfc` returns text already in its stored form as it is (checked in C), and cleans the rest word by word:
    both give what the general path gives, for every character in every place a word can put it."""
    from ttct.contracts import types

    def general(text):
        cleaned = types.no_control_characters(" ".join(unicodedata.normalize("NFC", text).split()))
        if not cleaned:
            raise ValueError("must not be blank")
        return cleaned

    def outcome(read, text):
        try:
            return read(text)
        except ValueError as exc:  # PydanticCustomError is one
            return (type(exc).__name__, str(exc))

    samples = ["", " ", "Nguyễn Văn An", "Nguyen\u0302\u0303 Va\u0306n", " An", "An ", "Văn  An", "Văn\tAn"]
    for cp in range(0x110000):
        if cp < 0x3100 or cp % 61 == 0:  # everything up to the CJK blocks, a sample of the rest
            c = chr(cp)
            samples += [c, f"Nguyễn{c}Văn", f"Nguyễn {c}", f"{c} Văn"]
    for text in samples:
        assert outcome(types._nfc, text) == outcome(general, text), repr(text)


def test_names_refuse_every_control_character_and_lone_surrogate_and_nothing_else():
    refused = {cp for cp in range(0x110000) if unicodedata.category(chr(cp)) in ("Cc", "Cs")}
    for cp in range(0x110000):
        name = f"Nguyễn Văn {chr(cp)}An"
        if cp in refused and not chr(cp).isspace():  # tab, new line … become spaces first
            with pytest.raises(ValidationError, match=f"U\\+{cp:04X}" if cp < 0xD800 else "unicode"):
                SendingOrganisation(code="xa-hoa-loc", name=name)
        elif cp not in refused and (cp < 0x300 or cp % 97 == 0):  # Latin, Vietnamese marks, a sample of the rest
            SendingOrganisation(code="xa-hoa-loc", name=name)

def test_events_are_frozen_and_readers_tolerate_fields_they_do_not_know_yet():
    event = opened()
    with pytest.raises(ValidationError):
        event.capacity = 3  # type: ignore[misc]
    assert ClassOpened.model_validate({**event.model_dump(mode="json"), "added_in_a_later_version": 1}) == event


def test_codes_must_be_subject_safe_slugs():
    with pytest.raises(ValidationError):
        EventMetadata(province="thanh.hoa", centre="hau-loc", correlation_id=uuid4())


def test_score_is_serialised_as_a_number_with_one_decimal():
    lid = uuid4()
    event = ScoreRecorded(class_id=uuid4(), class_title="L", learner_id=lid, personal=legacy_sealed(lid, "A"),
                          sending_organisation=SendingOrganisation(code="o", name="O"),
                          score=Decimal("8.5"), grade_band=GradeBand.gioi)
    assert event.model_dump(mode="json")["score"] == 8.5


def test_an_old_version_is_upcast_before_handlers_see_it(monkeypatch):
    # A hypothetical v0 of ClassOpened called the venue "location": the upcaster renames it.
    monkeypatch.setitem(UPCASTERS, ("ClassOpened", 0), lambda p: {**{k: v for k, v in p.items() if k != "location"},
                                                                    "venue": p["location"]})
    payload = opened().model_dump(mode="json")
    payload["location"] = payload.pop("venue")
    env = Envelope(event_id=uuid4(), event_type="ClassOpened", schema_version=1, occurred_at=datetime.now(UTC),
                   stream_id="scheduling:class:x", stream_version=1, payload=payload, **META.model_dump())
    env = env.model_copy(update={"schema_version": 0})
    assert read_event(env).venue == "Hội trường"


def test_unknown_event_types_are_refused():
    env = Envelope(event_id=uuid4(), event_type="Nope", schema_version=1, occurred_at=datetime.now(UTC),
                   stream_id="x:y", stream_version=1, payload={}, **META.model_dump())
    with pytest.raises(UnknownEvent):
        read_event(env)


def test_a_v1_session_event_is_read_with_its_count_as_both_the_sessions_scheduled_and_the_least_plan():
    stored = json.loads((Path(__file__).parents[1] / "contract/samples/SessionScheduled.v1.json").read_text("utf-8"))
    event = read_event(Envelope.model_validate(stored))
    assert isinstance(event, SessionScheduled)
    assert (event.scheduled_sessions, event.planned_sessions) == (1, 1)  # readers add ClassOpened's plan
