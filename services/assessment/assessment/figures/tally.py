"""The year's figures from the grouped rows of the figure tables: pure, no I/O.

Counting rules:
- a class counts in the year its `starts_on` falls in, from its ClassOpened; a cancelled class is not among
  `classes` but counted apart in `cancelled_classes`, and its places and results count nowhere;
- a learner place (lượt học viên) is one learner holding a seat in one class: enrolled and not withdrawn since
  (a re-enrolment in the same class is still one place; a transfer is a place in the class arrived at);
- a result is a learner's latest LearnerResultFinalised in the class (a re-sit replaces it); `pass_rate` is
  passed / finalised (ineligible learners are finalised and did not pass); `grades` counts the eligible learners'
  bands, every band present, and `ineligible` those who may not sit the final test;
- attendance is the finalised learners' (their result's sessions attended over sessions counted, summed):
  `attendance_rate`.
- by the map as recorded, a learner counts under the organisation that sent them then; by today's map, under the
  organisation it has since been merged or dissolved into (`successors`): the lines of predecessors add up into
  their successor's, every total the same.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, Field

from ttct.contracts.types import GradeBand


class Results(BaseModel):
    finalised: int = 0
    passed: int = 0
    ineligible: int = 0
    pass_rate: float | None = Field(default=None, description="passed / finalised, 4 decimals; none finalised: null")
    grades: dict[GradeBand, int] = Field(default_factory=lambda: {band: 0 for band in GradeBand})
    sessions_attended: int = Field(default=0, description="sessions the finalised learners attended, together")
    sessions_counted: int = Field(default=0, description="sessions that counted for them (held, not cancelled)")
    attendance_rate: float | None = Field(default=None, description="sessions_attended / sessions_counted, 4 "
                                                                    "decimals; none counted: null")


class Line(BaseModel):
    classes: int = 0
    cancelled_classes: int = 0
    places: int = 0
    results: Results = Field(default_factory=Results)


class ProgrammeLine(Line):
    programme_type: str


class CentreLine(Line):
    centre: str


class OrganisationLine(BaseModel):
    organisation_code: str
    organisation_name: str
    places: int = 0
    results: Results = Field(default_factory=Results)


Map = Literal["recorded", "today"]


class Figures(BaseModel):
    year: int
    centre: str | None = Field(description="the centre, or null for the whole province")
    map: Map = Field("recorded", description="by_organisation as recorded (the map of that year), or by today's "
                                             "(organisations merged or dissolved since counted in their successor)")
    total: Line
    by_programme_type: list[ProgrammeLine]
    by_organisation: list[OrganisationLine]
    by_centre: list[CentreLine] = Field(description="one line per centre (the province's figures only)")


def _add_result(results: Results, row: dict) -> None:
    n = row["learners"]
    results.finalised += n
    results.sessions_attended += row.get("sessions_attended") or 0
    results.sessions_counted += row.get("sessions_counted") or 0
    if row["passed"]:
        results.passed += n
    if not row["eligible"]:
        results.ineligible += n
    elif row["grade_band"] is not None:
        results.grades[GradeBand(row["grade_band"])] += n


def _rate(results: Results) -> Results:
    results.pass_rate = round(results.passed / results.finalised, 4) if results.finalised else None
    results.attendance_rate = (round(results.sessions_attended / results.sessions_counted, 4)
                               if results.sessions_counted else None)
    return results


def figures(year: int, centre: str | None, rows: dict[str, Iterable[dict]],
            successors: Mapping[str, tuple[str, str]] | None = None,
            merged_centres: Mapping[str, str] | None = None) -> Figures:
    """`rows` as `tables.counts` returns them: classes, places and results grouped by centre, programme type and
    (places, results) sending organisation; with `successors` (code -> successor's code and name), by today's map.
    With `merged_centres` (centre -> the centre it is part of today) the centres too are read by today's map: a
    predecessor's rows count under its successor, and `centre`'s figures are its own rows and those rolled up into
    it (rows of other centres, as a province-wide read returns them, are left out)."""
    if successors is not None:
        rows = {name: [_renamed(row, successors) for row in found] for name, found in rows.items()}
    if merged_centres is not None:
        rows = {name: [{**row, "centre": merged_centres.get(row["centre"], row["centre"])} for row in found
                       if centre is None or row["centre"] == centre or merged_centres.get(row["centre"]) == centre]
                for name, found in rows.items()}
    total = Line()
    programmes: dict[str, ProgrammeLine] = {}
    centres: dict[str, CentreLine] = {}
    organisations: dict[str, OrganisationLine] = {}

    def lines(row: dict) -> list[Line]:
        p = row["programme_type"] or "unknown"
        return [total, programmes.setdefault(p, ProgrammeLine(programme_type=p)),
                centres.setdefault(row["centre"], CentreLine(centre=row["centre"]))]

    def organisation(row: dict) -> OrganisationLine:
        return organisations.setdefault(row["organisation_code"], OrganisationLine(
            organisation_code=row["organisation_code"], organisation_name=row["organisation_name"]))

    for row in rows["classes"]:
        for line in lines(row):
            line.classes += row["classes"]
            line.cancelled_classes += row["cancelled_classes"]
    for row in rows["places"]:
        for line in [*lines(row), organisation(row)]:
            line.places += row["places"]
    for row in rows["results"]:
        for line in [*lines(row), organisation(row)]:
            _add_result(line.results, row)
    everything: list = [total, *programmes.values(), *centres.values(), *organisations.values()]
    for line in everything:
        _rate(line.results)
    return Figures(
        year=year, centre=centre, total=total,
        by_programme_type=sorted(programmes.values(), key=lambda l: l.programme_type),
        by_organisation=sorted(organisations.values(), key=lambda l: l.organisation_code),
        by_centre=sorted(centres.values(), key=lambda l: l.centre) if centre is None else [],
        map="recorded" if successors is None else "today")


def _renamed(row: dict, successors: Mapping[str, tuple[str, str]]) -> dict:
    if row.get("organisation_code") not in successors:
        return row
    code, name = successors[row["organisation_code"]]
    return {**row, "organisation_code": code, "organisation_name": name}
