"""Value types the event contracts share."""
from __future__ import annotations

import base64
import json
import re
import unicodedata
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ttct.contracts.envelope import Code


# Unicode's categories Cc (C0, DEL, C1) and Cs (surrogates) as one character class: both are closed for good by
# Unicode's stability policy, and a regular expression scans a name in C where asking unicodedata.category of
# each character cost a few microseconds per field of every event read.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def no_control_characters(text: str) -> str:
    """Refuse control characters (NUL, escape ...) and lone surrogates: nobody types them, PostgreSQL cannot store
    some of them, and the others garble papers and messages. Refused here, where every service validates its
    input, so the user reads why in our words rather than the database's."""
    found = _CONTROL.search(text)
    if found is not None:
        raise PydanticCustomError(
            "control_character", "must not contain control characters (found U+{code}); "
            "không được chứa ký tự điều khiển (U+{code})", {"code": f"{ord(found.group()):04X}"})
    return text


def _nfc(text: str) -> str:
    # Vietnamese text arrives both precomposed and decomposed (e.g. from Excel on macOS); store one form so
    # equality, uniqueness and sorting hold. Whitespace controls (tab, new line) become spaces; others are refused.
    if (text and text.isprintable() and text[0] != " " and text[-1] != " " and "  " not in text
            and unicodedata.is_normalized("NFC", text)):
        # Already in that form, as nearly every name and title read back from an event is: nothing to normalise,
        # and printable text holds no whitespace but the space (nor any control character or surrogate), so
        # collapsing it would give it back unchanged. Checked in C, where the general path below builds a list
        # of words and joins them (twice as long, and every contract field of this type of every event read).
        return text
    cleaned = no_control_characters(" ".join(unicodedata.normalize("NFC", text).split()))
    if not cleaned:
        raise ValueError("must not be blank")
    return cleaned


VietnameseText = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_nfc)]


def PlainText(max_length: int, min_length: int = 1) -> Any:  # noqa: N802 - a type, used like one
    """Free text of at most `max_length` characters (a reason, a note, a role), without control characters."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(no_control_characters)]


class ProgrammeType(StrEnum):
    """Programme types a centre runs (BRIEF.md)."""

    so_cap_llct = "so_cap_llct"  # Sơ cấp lý luận chính trị
    ket_nap_dang = "ket_nap_dang"  # Bồi dưỡng LLCT cho đối tượng kết nạp Đảng
    dang_vien_moi = "dang_vien_moi"  # Bồi dưỡng đảng viên mới
    chuyen_de = "chuyen_de"  # Chuyên đề cho cán bộ chủ chốt
    nghiep_vu = "nghiep_vu"  # Nghiệp vụ công tác Đảng / chính quyền / đoàn thể
    quoc_phong_an_ninh = "quoc_phong_an_ninh"  # Quốc phòng – an ninh
    ky_nang = "ky_nang"  # Kỹ năng giao tiếp
    trien_khai_nghi_quyet = "trien_khai_nghi_quyet"  # Triển khai nghị quyết
    can_bo_nguon = "can_bo_nguon"  # Bồi dưỡng cán bộ nguồn quy hoạch


class GradeBand(StrEnum):
    xuat_sac = "xuat_sac"
    gioi = "gioi"
    kha = "kha"
    trung_binh = "trung_binh"
    khong_dat = "khong_dat"

    @property
    def label(self) -> str:
        return _GRADE_LABELS[self]


_GRADE_LABELS = {
    GradeBand.xuat_sac: "Xuất sắc",
    GradeBand.gioi: "Giỏi",
    GradeBand.kha: "Khá",
    GradeBand.trung_binh: "Trung bình",
    GradeBand.khong_dat: "Không đạt",
}


class SendingOrganisation(BaseModel):
    """The organisation that sent a learner (đơn vị cử học viên), by its code in the province's directory."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code
    name: VietnameseText


class DispatchDecision(BaseModel):
    """The decision by which a sending organisation sends its people to a class (quyết định cử đi học): its number,
    the day it was signed and who signed it. One decision may send many learners, to several classes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: Annotated[str, Field(min_length=1, max_length=50, description='as written on it, e.g. "125-QĐ/ĐU"'),
                      AfterValidator(_nfc)]
    signed_on: date
    signer: VietnameseText = Field(description='who issued it, as the report cites it ("của …"), e.g. "Ban '
                                               'Thường vụ Đảng ủy xã Hoa Lộc"')


class ReorganisationDecision(BaseModel):
    """The decision that ordered a change to the province's map of organisations (quyết định sáp nhập, đổi tên,
    giải thể...): its number and the day it was signed, as a merge, rename, move or dissolution cites it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    number: Annotated[str, Field(min_length=1, max_length=50, description='as written on it, e.g. "1686/QĐ-UBND"'),
                      AfterValidator(_nfc)]
    signed_on: date


def upcast_dispatch_decision(payload: dict) -> dict:
    """To the version that may cite the learner's dispatch decision: earlier events cite none."""
    return {**payload, "dispatch_decision": None}


def upcast_profile(payload: dict) -> dict:
    """To the version that may carry the learner's sealed profile: earlier events carry none."""
    return {**payload, "profile": None}


class OrganisationContact(BaseModel):
    """A person to reach at a sending organisation; `is_head` marks the head of its party committee (người đứng
    đầu cấp ủy), who is kept informed of its learners' participation and results."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: VietnameseText
    role: PlainText(100) = Field(description='e.g. "head of party committee", "secretary", "office"')
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
                     AfterValidator(no_control_characters)] | None = None
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9 .()-]{6,30}$")
    is_head: bool = False


class PersonalData(BaseModel):
    """What events say about a learner as a person: sealed in every event (`SealedPersonalData`), never in clear."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    full_name: VietnameseText
    date_of_birth: date | None = None


class Gender(StrEnum):
    male = "male"
    female = "female"


PARTY_CARD_NUMBER = r"^[0-9]{6,12}$"
"""A party card number (số thẻ đảng viên): digits only, as printed on the card."""


class LearnerProfile(BaseModel):
    """What a centre records about a learner besides name and birth date: gender, position (chức vụ), date of party
    admission (ngày vào Đảng) and party card number (số thẻ đảng viên). Personal data like the rest: sealed in the
    events that carry it (`SealedPersonalData`, with the learner's key), never in clear; every field optional."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gender: Gender | None = None
    position: VietnameseText | None = Field(default=None, description="chức vụ, e.g. Bí thư Chi bộ thôn 3")
    party_admitted_on: date | None = Field(default=None, description="ngày vào Đảng: after the learner's 18th "
                                                                     "birthday, not in the future")
    party_card_number: str | None = Field(default=None, pattern=PARTY_CARD_NUMBER)

    def __bool__(self) -> bool:
        return any(v is not None for v in self.model_dump().values())


class SealedPersonalData(BaseModel):
    """A learner's `PersonalData` (or `LearnerProfile`), encrypted with the learner's own key (AES-256-GCM, the learner id as
    associated data). The key lives in the key vault, outside every event log: destroying it (an erasure) leaves
    this unreadable wherever it was copied (crypto-shredding). `ttct.privacy.personal` seals and opens it.

    `scheme` "clear-v1" marks what an upcaster made of a v1 event, which carried the fields in clear: its
    `ciphertext` is the base64url JSON itself, readable without a key (v1 never ran in production; see
    docs/security.md). Readers show it only while the learner is not erased.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    learner_id: UUID = Field(description="whose key sealed it (the key id)")
    scheme: Literal["A256GCM", "clear-v1"] = "A256GCM"
    nonce: str = Field(max_length=64, pattern=r"^[A-Za-z0-9_-]*$", description="base64url, 12 bytes")
    ciphertext: str = Field(max_length=4096, pattern=r"^[A-Za-z0-9_-]*$", description="base64url")


_CLEAR_JSON = json.JSONEncoder(ensure_ascii=False)  # made once: json.dumps with options builds one per call


def legacy_clear(learner_id: UUID | str, full_name: str, date_of_birth: str | date | None) -> dict:
    """What a pure upcaster makes of a v1 event's clear fields (it has no key to seal with): a "clear-v1" blob,
    honestly marked, opened only while the learner is not erased."""
    dob = date_of_birth.isoformat() if isinstance(date_of_birth, date) else date_of_birth
    text = _CLEAR_JSON.encode({"full_name": full_name, "date_of_birth": dob}).encode()
    return {"learner_id": str(learner_id), "scheme": "clear-v1", "nonce": "",
            "ciphertext": base64.urlsafe_b64encode(text).rstrip(b"=").decode()}


def upcast_personal_v1(payload: dict) -> dict:
    """v1 -> v2 of every event that carried `full_name` (and `date_of_birth`) in clear: they become `personal`."""
    rest = {k: v for k, v in payload.items() if k not in ("full_name", "date_of_birth")}
    return {**rest, "personal": legacy_clear(payload["learner_id"], payload["full_name"],
                                             payload.get("date_of_birth"))}
