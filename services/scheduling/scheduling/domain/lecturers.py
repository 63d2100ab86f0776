"""Lecturers (shared by every centre of the province) and venues (one centre's rooms and halls)."""
from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator
from ttct.contracts.envelope import Code
from ttct.contracts.types import VietnameseText


class LecturerKind(StrEnum):
    in_house = "in_house"  # giảng viên của trung tâm
    part_time = "part_time"  # giảng viên kiêm chức
    collaborator = "collaborator"  # cộng tác viên
    party_leader = "party_leader"  # lãnh đạo cấp ủy (e.g. a member of the district Standing Committee)


class RegisterLecturer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    full_name: VietnameseText
    kind: LecturerKind
    position: VietnameseText | None = Field(default=None, description="e.g. Phó Bí thư Thường trực Huyện ủy")
    home_centre: Code | None = Field(default=None, description="the centre an in-house or part-time lecturer "
                                     "belongs to; lecturers teach at any centre of the province")

    @model_validator(mode="after")
    def _home_centre(self) -> RegisterLecturer:
        if self.kind in (LecturerKind.in_house, LecturerKind.part_time) and self.home_centre is None:
            raise ValueError("an in-house or part-time lecturer needs home_centre, the centre they belong to")
        return self


class RegisterVenue(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: VietnameseText
    seats: int | None = Field(default=None, ge=1, le=10_000)
