"""What a service needs to print its papers: who each centre is on paper, and the typeface.

The services' settings derive from `PaperSettings` (the common `ServiceSettings` and these), read from the
environment like the rest: `CENTRES` (JSON, centre code → its profile or just its name; `CENTRE_NAMES`, the older name of the
setting, is read too) and `PAPER_FONT_FILE` (`REPORT_FONT_FILE` too).
"""
from __future__ import annotations

from datetime import date

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from ttct.operations.settings import ServiceSettings
from ttct.papers.model import Heading, Signature


class CentreProfile(BaseModel):
    """A centre as its papers name it: the heading's issuing body and its superior, the place of the date line,
    and who signs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description='e.g. "Trung tâm Chính trị huyện Hậu Lộc"')
    superior: str | None = Field(default=None, description='the body above it, e.g. "Huyện ủy Hậu Lộc"')
    place: str | None = Field(default=None, description='the date line\'s place, e.g. "Hậu Lộc"')
    director: str | None = Field(default=None, description="the director's name, printed under the signature")
    director_title: str = Field(default="Giám đốc", description="the signer's title")

    def heading(self, on: date, number: str | None = None) -> Heading:
        """The heading of a paper the centre issues on `on`; `number`: its kind and issuer, e.g. "DS/TTCT"."""
        return Heading(body=self.name, superior=self.superior, place=self.place, on=on, number=number)

    def signature(self) -> Signature:
        return Signature(self.director_title, name=self.director)


def default_profile(code: str) -> CentreProfile:
    return CentreProfile(name=f"Trung tâm Chính trị {code}")


class PaperSettings(ServiceSettings):
    centres: dict[str, CentreProfile] = Field(
        default_factory=dict, validation_alias=AliasChoices("centres", "centre_names"),
        description='JSON: centre code -> profile {"name", "superior", "place", "director", "director_title"} or '
                    'just the name, e.g. {"hau-loc": {"name": "Trung tâm Chính trị huyện Hậu Lộc", "superior": '
                    '"Huyện ủy Hậu Lộc", "place": "Hậu Lộc"}}; a centre not named prints as "Trung tâm Chính trị '
                    '<code>"')
    paper_font_file: str | None = Field(
        default=None, validation_alias=AliasChoices("paper_font_file", "report_font_file"),
        description="a TTF with Vietnamese glyphs for the papers (default: Spectral from fontpkg-spectral)")

    @field_validator("centres", mode="before")
    @classmethod
    def _names_alone(cls, value: object) -> object:
        if isinstance(value, dict):
            return {code: {"name": profile} if isinstance(profile, str) else profile
                    for code, profile in value.items()}
        return value

    def centre_profile(self, code: str) -> CentreProfile:
        return self.centres.get(code) or default_profile(code)
