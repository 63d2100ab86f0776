"""Learners' personal data sealed with a key of their own (issue 7): what a sealed blob reveals without the key,
what opens it, and how the v1 events that carried the data in clear are read as v2."""
import json
import os
from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest
from ttct.contracts import EVENTS, UPCASTERS, Envelope, read_event
from ttct.contracts.types import upcast_personal_v1
from ttct.privacy.personal import ERASED, PersonalData, SealedPersonalData, display_name, legacy_sealed, seal, unseal

pytestmark = pytest.mark.unit
SAMPLES = Path(__file__).resolve().parents[1] / "contract/samples"
HOA = PersonalData(full_name="Nguyễn Thị Hoà", date_of_birth=date(1994, 3, 17))


def test_a_sealed_blob_opens_with_the_learners_key_and_shows_nothing_without_it():
    key, learner = os.urandom(32), uuid4()
    sealed = seal(key, learner, HOA, os.urandom(12))
    wire = sealed.model_dump_json()
    for clue in ("Nguyễn", "Hoà", "Hoa", "1994", "03-17"):
        assert clue not in wire
    assert unseal(key, sealed) == HOA
    assert unseal(None, sealed) is None  # erased: the key is gone
    assert unseal(os.urandom(32), sealed) is None  # another learner's key


def test_a_blob_copied_onto_another_learner_does_not_open():
    key, learner = os.urandom(32), uuid4()
    sealed = seal(key, learner, HOA, os.urandom(12))
    moved = SealedPersonalData(**{**sealed.model_dump(), "learner_id": uuid4()})
    assert unseal(key, moved) is None  # the learner id is authenticated with the data


def test_the_length_of_a_blob_does_not_tell_a_short_name_from_a_long_one():
    key, learner = os.urandom(32), uuid4()
    short = seal(key, learner, PersonalData(full_name="Lê An"), os.urandom(12))
    long = seal(key, learner, PersonalData(full_name="Nguyễn Thị Minh Khai"), os.urandom(12))
    assert len(short.ciphertext) == len(long.ciphertext)


def test_the_same_data_sealed_twice_looks_different():
    key, learner = os.urandom(32), uuid4()
    assert seal(key, learner, HOA, os.urandom(12)) != seal(key, learner, HOA, os.urandom(12))


def test_an_erased_learner_is_shown_as_erased():
    assert display_name(None) == ERASED and display_name(HOA) == "Nguyễn Thị Hoà"


@pytest.mark.parametrize("name", sorted(n for n in EVENTS if UPCASTERS.get((n, 1)) is upcast_personal_v1))
def test_a_v1_event_with_the_name_in_clear_is_read_as_v2_with_a_legacy_blob(name):
    stored = json.loads((SAMPLES / f"{name}.v1.json").read_text(encoding="utf-8"))
    event = read_event(Envelope.model_validate(stored))
    assert event.personal.scheme == "clear-v1" and event.personal.learner_id == event.learner_id
    opened = unseal(b"any key: the learner is not erased", event.personal)
    assert opened.full_name == stored["payload"]["full_name"]
    assert opened.date_of_birth == (date.fromisoformat(stored["payload"]["date_of_birth"])
                                    if "date_of_birth" in stored["payload"] else None)
    assert unseal(None, event.personal) is None  # after an erasure a v1 blob no longer opens either


def test_a_v2_event_carries_no_name_and_reads_as_is():
    stored = json.loads((SAMPLES / "LearnerEnrolled.v2.json").read_text(encoding="utf-8"))
    assert "full_name" not in stored["payload"] and "date_of_birth" not in stored["payload"]
    event = read_event(Envelope.model_validate(stored))
    assert event.personal.scheme == "A256GCM"


def test_a_legacy_blob_for_tools_opens_like_an_upcast_one():
    learner = uuid4()
    assert unseal(b"", legacy_sealed(learner, "Lê Văn Tám")) == PersonalData(full_name="Lê Văn Tám")


def test_blobs_sealed_as_producers_have_always_sealed_them_still_open():
    """What `unseal` authenticates and decodes is computed its own quick way (the learner id's text, base64url):
    a blob made with the standard library's own `str(uuid)` and base64 opens, and the two ways agree everywhere."""
    import base64
    import uuid

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from ttct.privacy import personal

    key, nonce = os.urandom(32), os.urandom(12)
    for learner in [uuid4() for _ in range(200)] + [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]:
        assert personal._associated(learner) == str(learner).encode()
        sealed = AESGCM(key).encrypt(nonce, HOA.model_dump_json().encode(), str(learner).encode())
        blob = SealedPersonalData(learner_id=learner, nonce=base64.urlsafe_b64encode(nonce).rstrip(b"=").decode(),
                                  ciphertext=base64.urlsafe_b64encode(sealed).rstrip(b"=").decode())
        assert unseal(key, blob) == HOA
    for n in range(70):
        text = base64.urlsafe_b64encode(os.urandom(n)).rstrip(b"=").decode()
        assert personal._unb64(text) == base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
