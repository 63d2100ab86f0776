"""The programme catalogue: what a centre teaches, and the defaults a class inherits when it opens.

A programme is reference data of one centre. Its defaults are copied into the class's events when they apply
(ClassPlanned names the programme, ClassOpened carries its rules), so changing a programme later never changes a
class that already opened.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from ttct.contracts.envelope import Code
from ttct.contracts.types import ProgrammeType, VietnameseText
from ttct.domain.errors import Invalid, Rejected
from ttct.papers.labels import PROGRAMME_TYPES

SchemeRef = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}@[1-9][0-9]{0,3}$")]
"""An assessment scheme as code@version, e.g. default@1."""

DEFAULT_MAX_ABSENCE_RATIO = Decimal("0.2")
DEFAULT_SCHEME = "default@1"


class ProgrammeRules(BaseModel):
    """The defaults a class inherits from its programme."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    planned_sessions: int = Field(ge=0, le=500, description="sessions a class of this programme plans (0 = not set)")
    max_absence_ratio: Decimal = Field(default=DEFAULT_MAX_ABSENCE_RATIO, ge=0, le=1, max_digits=4, decimal_places=3,
                                       description="a learner missing MORE than this share may not sit the test")
    excused_absences_count: bool = Field(default=False, description="whether excused absences count as absences")
    assessment_scheme: SchemeRef = DEFAULT_SCHEME
    requires_dispatch_decision: bool = Field(
        default=False, description="every enrolment in a class of this programme must cite the sending "
                                   "organisation's dispatch decision (quyết định cử đi học)")


class DefineProgramme(ProgrammeRules):
    """Create or change a programme of the centre's catalogue."""

    programme_type: ProgrammeType
    name: VietnameseText


class Programme(DefineProgramme):
    code: Code


_SESSIONS: dict[ProgrammeType, int] = {
    ProgrammeType.so_cap_llct: 30, ProgrammeType.ket_nap_dang: 10, ProgrammeType.dang_vien_moi: 10,
    ProgrammeType.chuyen_de: 4, ProgrammeType.nghiep_vu: 6, ProgrammeType.quoc_phong_an_ninh: 8,
    ProgrammeType.ky_nang: 4, ProgrammeType.trien_khai_nghi_quyet: 2, ProgrammeType.can_bo_nguon: 12,
}


def default_code(programme_type: ProgrammeType) -> str:
    """The code of the seeded programme of a type: its name as a slug (so_cap_llct → so-cap-llct)."""
    return programme_type.value.replace("_", "-")


def default_catalogue() -> list[Programme]:
    """One programme per type, seeded for a centre the first time it uses its catalogue."""
    return [Programme(code=default_code(t), programme_type=t, name=PROGRAMME_TYPES[t], planned_sessions=sessions)
            for t, sessions in _SESSIONS.items()]


def programme_for_class(programme_type: ProgrammeType, programme: Programme | None, code: str | None) -> Programme:
    """The programme a new class belongs to: the one named by code, which must be of the class's type."""
    if programme is None:
        wanted = code or default_code(programme_type)
        raise Invalid(f"the centre's catalogue has no programme {wanted!r}",
                      f"Danh mục chương trình của trung tâm không có chương trình {wanted!r}",
                      code="programme-unknown")
    if programme.programme_type is not programme_type:
        raise Invalid(f"programme {programme.code!r} is a {programme.programme_type.value} programme, "
                      f"not {programme_type.value}",
                      f"Chương trình {programme.code!r} thuộc loại {programme.programme_type.value}, "
                      f"không phải {programme_type.value}", code="programme-type-mismatch")
    return programme


def decide_define(code: str, command: DefineProgramme, existing: Programme | None) -> Programme:
    """A programme as defined; its type is fixed once it exists, since classes were opened under it."""
    if existing is not None and existing.programme_type is not command.programme_type:
        raise Rejected(f"programme {code!r} is a {existing.programme_type.value} programme; its type cannot change "
                       "(define a new programme instead)",
                       f"Chương trình {code!r} thuộc loại {existing.programme_type.value}; không thể đổi loại "
                       "(hãy tạo chương trình mới)", code="programme-type-fixed")
    return Programme(code=code, **command.model_dump())
