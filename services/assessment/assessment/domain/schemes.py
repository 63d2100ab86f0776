"""Assessment schemes: the components of a programme's assessment with their weights, its grade bands and its
re-sit rule. Schemes are versioned: defining a scheme again makes a new version, and a score keeps the version it
was recorded under, so a new version never changes a result already recorded."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from ttct.contracts.types import GradeBand
from ttct.domain.errors import Invalid

ComponentName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
SchemeCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
ONE_DECIMAL = Decimal("0.1")


class Component(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ComponentName = Field(description='e.g. "written-test", "essay" (thu hoạch)')
    weight: Decimal = Field(gt=0, le=1)


class Band(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    band: GradeBand
    floor: Decimal = Field(ge=0, le=10, description="the lowest score in the band")


DEFAULT_BANDS = (Band(band=GradeBand.xuat_sac, floor=Decimal("9.0")), Band(band=GradeBand.gioi, floor=Decimal("8.0")),
                 Band(band=GradeBand.kha, floor=Decimal("7.0")), Band(band=GradeBand.trung_binh, floor=Decimal("5.0")))


class SchemeRules(BaseModel):
    """What a centre defines for a scheme version (the request body, and the stored definition)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    programme_code: str | None = Field(default=None, description="the programme whose classes use it by default")
    components: tuple[Component, ...] = Field(min_length=1, max_length=10)
    bands: tuple[Band, ...] = Field(default=DEFAULT_BANDS, description="passing bands, best first; "
                                    "below the last floor is Không đạt")
    max_resits: int = Field(default=1, ge=0, le=5, description="re-sits a learner may take after finalisation")
    resit_if_passed: bool = Field(default=False, description="whether a learner who passed may re-sit to improve")

    @model_validator(mode="after")
    def _consistent(self) -> "SchemeRules":
        names = [c.name for c in self.components]
        if len(set(names)) != len(names):
            raise ValueError("component names must be unique")
        if sum(c.weight for c in self.components) != 1:
            raise ValueError("component weights must add up to 1")
        floors = [b.floor for b in self.bands]
        if floors != sorted(floors, reverse=True) or len(set(floors)) != len(floors):
            raise ValueError("bands must be given best first, with strictly decreasing floors")
        if GradeBand.khong_dat in {b.band for b in self.bands}:
            raise ValueError("khong_dat is what lies below the last band: do not list it")
        return self


class Scheme(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: SchemeCode
    version: int = Field(ge=1)
    rules: SchemeRules

    @property
    def ref(self) -> str:
        return f"{self.code}@{self.version}"

    def component_names(self) -> list[str]:
        return [c.name for c in self.rules.components]

    def band(self, score: Decimal) -> GradeBand:
        for band in self.rules.bands:
            if score >= band.floor:
                return band.band
        return GradeBand.khong_dat

    def final_score(self, scores: dict[str, Decimal]) -> Decimal | None:
        """The weighted score over every component, to one decimal (half up); None while one is missing."""
        if any(c.name not in scores for c in self.rules.components):
            return None
        total = sum((c.weight * scores[c.name] for c in self.rules.components), Decimal(0))
        return total.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)

    def passes(self, score: Decimal) -> bool:
        return self.band(score) is not GradeBand.khong_dat


DEFAULT_SCHEME = Scheme(code="default", version=1,
                        rules=SchemeRules(components=(Component(name="final", weight=Decimal(1)),)))


def parse_ref(ref: str) -> tuple[str, int | None]:
    """"code@3" -> ("code", 3); "code" -> ("code", None): the latest version."""
    code, _, version = ref.partition("@")
    if version and not version.isdigit():
        raise Invalid(f"scheme reference {ref!r} is not code@version",
                      f"Mã hình thức đánh giá {ref!r} không đúng dạng mã@phiên_bản", code="scheme-ref-invalid")
    return code, int(version) if version else None


def next_version(code: str, latest: int, rules: SchemeRules) -> Scheme:
    """Defining a scheme again is a new version; the built-in default cannot be redefined."""
    if code == DEFAULT_SCHEME.code:
        raise Invalid("the default scheme is built in; give your scheme another code",
                      "Hình thức đánh giá mặc định không sửa được; hãy đặt mã khác", code="scheme-reserved")
    return Scheme(code=code, version=latest + 1, rules=rules)
