"""A refused form: the error summary's entries, each for one field, in the order the fields appear."""
from __future__ import annotations

from dataclasses import dataclass, field

from console.adapters.api import Problem


@dataclass
class FormErrors:
    fields: tuple[str, ...]  # the form's fields in page order
    by_field: dict[str, str] = field(default_factory=dict)
    general: list[str | tuple[str, str]] = field(default_factory=list)  # on no one field: text, or (anchor, text)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)

    @property
    def summary(self) -> list[tuple[str | None, str]]:
        """(field id to link to, message), fields first in page order."""
        return [(n, self.by_field[n]) for n in self.fields if n in self.by_field] + [
            m if isinstance(m, tuple) else (None, m) for m in self.general]

    def from_problem(self, problem: Problem, messages: dict[str, str], lang: str, *,
                     codes: dict[str, str] | None = None, whole: str | None = None) -> None:
        """Put the service's 422 beside the fields it names (the body's field path, e.g. `body.capacity`), with
        the console's message saying how to put it right. A refusal whose code concerns one field (`codes`: e.g. a
        lecturer's clash) goes beside that field in the service's own words; one about the body as a whole, beside
        `whole`; any other on top."""
        said = problem.detail_vi if lang == "vi" and problem.detail_vi else problem.detail
        for error in problem.errors:
            path = str(error.get("field", ""))
            name = whole if path == "body" and whole else path.removeprefix("body.").split(".", 1)[0]
            if name in self.fields:
                self.add(name, messages[name])
        if not self.by_field and problem.code in (codes or {}):
            self.add((codes or {})[problem.code], said)
        if not self.by_field:
            self.general.append(said)
