"""The class's result reports, one per sending organisation (the paper `ttct.papers.reports` also prints for the
organisation itself), and its certificates."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ttct.domain.names import text_sort_key
from ttct.papers import certificates, labels, reports
from ttct.papers.model import Paper, Sheet, Workbook
from ttct.papers.settings import CentreProfile


def _line(row: dict) -> dict:
    """A final result as the report prints it."""
    return {k: row[k] for k in ("learner_id", "full_name", "eligible", "sessions_attended", "sessions_counted",
                                "final_score", "grade_band", "passed", "conduct", "certificate_number")}


def by_organisation(rows: Sequence[dict]) -> list[tuple[dict[str, str], list[dict]]]:
    """`rows`: final results with organisation_code and organisation_name; grouped, organisations by name."""
    groups: dict[str, tuple[dict[str, str], list[dict]]] = {}
    for row in rows:
        org = {"code": row["organisation_code"], "name": row["organisation_name"]}
        groups.setdefault(org["code"], (org, []))[1].append(_line(row))
    return sorted(groups.values(), key=lambda g: (text_sort_key(g[0]["name"]), g[0]["code"]))


def result_reports(centre: CentreProfile, on: date, the_class: dict, rows: Sequence[dict]) -> list[Paper]:
    reported = reports.ReportedClass(the_class["title"], the_class["programme_type"], the_class["starts_on"],
                                     the_class["ends_on"])
    return [reports.paper(centre, on, reported, org, lines) for org, lines in by_organisation(rows)]


def result_book(the_class: dict, rows: Sequence[dict]) -> Workbook:
    """Every organisation's lines in one sheet (each line names its organisation)."""
    sheets = [reports.sheet(org, lines) for org, lines in by_organisation(rows)]
    joined = tuple(row for sheet in sheets for row in sheet.rows)
    numbered = tuple((i, *row[1:]) for i, row in enumerate(joined, 1))
    return Workbook(f"{reports.TITLE} – {the_class['title']}", (Sheet("Kết quả", reports.COLUMNS, numbered),))


def certificate(row: dict, verification_url: str) -> certificates.Certificate:
    """`row`: a certificate with its learner's organisation, grade and class dates (views.certificate_papers)."""
    return certificates.Certificate(
        number=row["certificate_number"], verification_code=row["verification_code"],
        verification_url=f"{verification_url.rstrip('/')}/{row['verification_code']}", full_name=row["full_name"],
        programme=labels.programme(row["programme_type"]) or row["class_title"], class_title=row["class_title"],
        issued_on=row["issued_on"], organisation=row["organisation_name"], starts_on=row["starts_on"],
        ends_on=row["ends_on"], grade=None if row["revoked"] else labels.grade(row["grade_band"]) or None,
        revoked=row["revoked"])
