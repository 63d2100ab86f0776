"""Value types the event contracts share."""
from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ttct.contracts.envelope import Code


def _nfc(text: str) -> str:
    # Vietnamese text arrives both precomposed and decomposed (e.g. from Excel on macOS); store one form so
    # equality, uniqueness and sorting hold.
    cleaned = " ".join(unicodedata.normalize("NFC", text).split())
    if not cleaned:
        raise ValueError("must not be blank")
    return cleaned


VietnameseText = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_nfc)]


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


class OrganisationContact(BaseModel):
    """A person to reach at a sending organisation; `is_head` marks the head of its party committee (người đứng
    đầu cấp ủy), who is kept informed of its learners' participation and results."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: VietnameseText
    role: str = Field(min_length=1, max_length=100, description='e.g. "head of party committee", "secretary", "office"')
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9 .()-]{6,30}$")
    is_head: bool = False
