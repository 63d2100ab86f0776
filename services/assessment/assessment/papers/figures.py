"""The year report (báo cáo kết quả đào tạo, bồi dưỡng): a centre's figures for a year, or the province's with a
line per centre, as the paper the director signs and as tables."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ttct.contracts.types import GradeBand
from ttct.domain.names import text_sort_key
from ttct.papers import labels
from ttct.papers.model import FILED, Column, Paper, Sheet, Text, Workbook
from ttct.papers.settings import CentreProfile

from assessment.figures.tally import Figures, Line, OrganisationLine, Results

TITLE = "Báo cáo kết quả đào tạo, bồi dưỡng"
_RESULTS = (Column("Có kết quả", 0.9, "int", "center"), Column("Đạt", 0.8, "int", "center"),
            Column("Tỉ lệ đạt", 0.9, "ratio", "center"),
            *(Column(band.label, 0.9, "int", "center") for band in GradeBand),
            Column("Không đủ ĐK dự thi", 1.0, "int", "center"), Column("Tỉ lệ chuyên cần", 0.9, "ratio", "center"))
_CLASSES = (Column("Số lớp", 0.7, "int", "center"), Column("Lớp hủy", 0.7, "int", "center"),
            Column("Lượt học viên", 0.9, "int", "center"))


def _results(r: Results) -> tuple:
    return (r.finalised, r.passed, r.pass_rate, *(r.grades[band] for band in GradeBand), r.ineligible,
            r.attendance_rate)


def _line(line: Line) -> tuple:
    return (line.classes, line.cancelled_classes, line.places, *_results(line.results))


def by_programme(f: Figures) -> Sheet:
    columns = (Column("Loại chương trình", 3.2), *_CLASSES, *_RESULTS)
    rows = [(labels.programme(p.programme_type), *_line(p)) for p in f.by_programme_type]
    return Sheet("Theo loại chương trình", columns, (*rows, ("Tổng cộng", *_line(f.total))),
                 caption="1. Theo loại chương trình", total_row=True)


def by_organisation(f: Figures) -> Sheet:
    columns = (Column("Mã đơn vị", 1.4, outputs=FILED), Column("Đơn vị cử học viên", 3.2),
               Column("Lượt học viên", 0.9, "int", "center"), *_RESULTS)
    ordered: list[OrganisationLine] = sorted(f.by_organisation, key=lambda o: text_sort_key(o.organisation_name))
    return Sheet("Theo đơn vị", columns,
                 tuple((o.organisation_code, o.organisation_name, o.places, *_results(o.results)) for o in ordered),
                 caption="2. Theo đơn vị cử học viên")


def by_centre(f: Figures, name: Callable[[str], str]) -> Sheet:
    columns = (Column("Mã trung tâm", 1.2, outputs=FILED), Column("Trung tâm", 3.2), *_CLASSES, *_RESULTS)
    return Sheet("Theo trung tâm", columns, tuple((c.centre, name(c.centre), *_line(c)) for c in f.by_centre),
                 caption="3. Theo trung tâm")


def _summary(f: Figures, who: str) -> str:
    t, r = f.total, f.total.results
    text = (f"Năm {f.year}, {who} đã mở {t.classes} lớp với {t.places} lượt học viên"
            + (f" ({t.cancelled_classes} lớp bị hủy)" if t.cancelled_classes else "") + ".")
    if r.finalised:
        text += (f" Có {r.finalised} lượt học viên đã có kết quả, trong đó {r.passed} lượt đạt yêu cầu (tỉ lệ "
                 f"{labels.ratio(r.pass_rate)}); {r.ineligible} lượt không đủ điều kiện dự thi.")
        if r.attendance_rate is not None:
            text += f" Tỉ lệ chuyên cần của các lượt học viên này: {labels.ratio(r.attendance_rate)}."
    return text


def sheets(f: Figures, centre_name: Callable[[str], str]) -> tuple[Sheet, ...]:
    return (by_programme(f), by_organisation(f), *((by_centre(f, centre_name),) if f.centre is None else ()))


def year_report(issuer: CentreProfile, on: date, f: Figures, centre_name: Callable[[str], str]) -> Paper:
    who = issuer.name if f.centre else f"các trung tâm trong tỉnh ({len(f.by_centre)} trung tâm)"
    return Paper(heading=issuer.heading(on, "BC/TTCT" if f.centre else None), title=f"{TITLE} năm {f.year}",
                 body=(Text(_summary(f, who)), *sheets(f, centre_name),
                       Text("Số liệu tính theo năm khai giảng của lớp; kết quả là kết quả chốt cuối cùng của học viên "
                            "(sau thi lại, nếu có).", "note")),
                 signatures=(issuer.signature(),), recipients=("Lưu VP.",), landscape=True,
                 subject=f"{TITLE} năm {f.year} – {issuer.name}")


def year_book(f: Figures, centre_name: Callable[[str], str]) -> Workbook:
    return Workbook(f"{TITLE} năm {f.year}", sheets(f, centre_name))
