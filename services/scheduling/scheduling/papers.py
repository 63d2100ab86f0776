"""What scheduling prints: a class's timetable (lịch học), from its class and session views, and the lecturers'
teaching hours at a centre (giờ giảng)."""
from __future__ import annotations

from datetime import date

from ttct.papers import labels
from ttct.papers.model import FILED, PRINTED, Column, Paper, Sheet, Text, Workbook
from ttct.papers.settings import CentreProfile

TITLE = "Lịch học"
COLUMNS = (
    Column("STT", 0.5, "int", "center"),
    Column("Ngày", 1.9, outputs=PRINTED),
    Column("Ngày học", 1.0, "date", outputs=FILED),
    Column("Thời gian", 1.2, align="center"),
    Column("Nội dung", 3.2),
    Column("Giảng viên", 1.9),
    Column("Địa điểm", 2.2),
    Column("Mã buổi học", 2.4, outputs=FILED),
)


def _rows(sessions: list[dict]) -> tuple[tuple, ...]:
    live = [s for s in sessions if s["status"] == "scheduled"]
    return tuple((i, labels.weekday(s["session_date"]), s["session_date"],
                  f"{labels.clock(s['starts_at'])}–{labels.clock(s['ends_at'])}",
                  s["topic"] + (" (đi thực tế)" if s["field_trip_site"] else ""), s["lecturer_name"],
                  s["field_trip_site"] or s["venue"], s["session_id"]) for i, s in enumerate(live, 1))


def timetable_sheet(sessions: list[dict]) -> Sheet:
    rows = _rows(sessions)
    return Sheet(TITLE, COLUMNS, rows, total=f"Tổng số: {len(rows)} buổi học.")


def _lines(the_class: dict) -> tuple[str, ...]:
    return (*labels.class_lines(the_class["title"], the_class["programme_type"], the_class["starts_on"],
                                the_class["ends_on"]), f"Địa điểm: {the_class['venue']}")


def timetable(centre: CentreProfile, on: date, the_class: dict, sessions: list[dict]) -> Paper:
    return Paper(heading=centre.heading(on, "LH/TTCT"), title=TITLE, lines=_lines(the_class),
                 body=(timetable_sheet(sessions),
                       Text("Học viên có mặt trước giờ học 15 phút; buổi đi thực tế tập trung tại Trung tâm.",
                            "note")),
                 signatures=(centre.signature(),), recipients=("Giảng viên, học viên lớp học;", "Lưu VP."),
                 landscape=True, subject=f"{TITLE} – {the_class['title']}")


def timetable_book(the_class: dict, sessions: list[dict]) -> Workbook:
    return Workbook(f"{TITLE} – {the_class['title']}", (timetable_sheet(sessions),))


HOURS_TITLE = "Bảng tổng hợp giờ giảng"
LECTURER_KINDS = {"in_house": "Giảng viên của Trung tâm", "part_time": "Giảng viên kiêm chức",
                  "collaborator": "Cộng tác viên", "party_leader": "Lãnh đạo cấp ủy", None: "Chưa có trong danh sách"}
HOURS_COLUMNS = (
    Column("STT", 0.5, "int", "center"),
    Column("Họ và tên", 2.6),
    Column("Loại giảng viên", 2.0),
    Column("Số buổi", 0.9, "int", "right"),
    Column("Số giờ", 0.9, "decimal", "right"),
    Column("Số tiết", 0.9, "decimal", "right"),
    Column("Mã giảng viên", 2.4, outputs=FILED),
)
MONTH_COLUMNS = (
    Column("Họ và tên", 2.6),
    Column("Tháng", 0.7, "int", "center"),
    Column("Số buổi", 0.9, "int", "right"),
    Column("Số giờ", 0.9, "decimal", "right"),
    Column("Số tiết", 0.9, "decimal", "right"),
    Column("Mã giảng viên", 2.4),
)


def hours_period(year: int, month: int | None) -> str:
    return f"tháng {month} năm {year}" if month else f"năm {year}"


def hours_sheet(report: dict) -> Sheet:
    rows = tuple((i, h["full_name"], LECTURER_KINDS.get(h["kind"], h["kind"]), h["sessions"], h["hours"],
                  h["periods"], h["lecturer_id"]) for i, h in enumerate(report["lecturers"], 1))
    total = report["total"]
    return Sheet(HOURS_TITLE, HOURS_COLUMNS, rows,
                 total=f"Tổng cộng: {total['sessions']} buổi, {labels.decimal(total['hours'])} giờ "
                       f"({labels.decimal(total['periods'])} tiết).")


def months_sheet(report: dict) -> Sheet:
    rows = tuple((h["full_name"], m["month"], m["sessions"], m["hours"], m["periods"], h["lecturer_id"])
                 for h in report["lecturers"] for m in h["months"])
    return Sheet("Theo tháng", MONTH_COLUMNS, rows)


def teaching_hours(centre: CentreProfile, on: date, report: dict) -> Paper:
    period = hours_period(report["year"], report["month"])
    kinds = "; ".join(f"{LECTURER_KINDS.get(k['kind'], k['kind'])}: {k['sessions']} buổi, "
                      f"{labels.decimal(k['hours'])} giờ" for k in report["by_kind"])
    return Paper(heading=centre.heading(on, "GG/TTCT"), title=HOURS_TITLE, lines=(f"Thời gian: {period}",),
                 body=(hours_sheet(report), Text(f"Theo loại giảng viên: {kinds}." if kinds else
                                                 "Không có buổi học nào đã dạy trong thời gian này.", "body"),
                       Text("Chỉ tính các buổi học đã dạy xong, không tính buổi bị hủy; một tiết là 45 phút.",
                            "note")),
                 signatures=(centre.signature(),), recipients=("Kế toán Trung tâm;", "Lưu VP."),
                 subject=f"{HOURS_TITLE} {period}")


def teaching_hours_book(report: dict) -> Workbook:
    return Workbook(f"{HOURS_TITLE} {hours_period(report['year'], report['month'])}",
                    (hours_sheet(report), months_sheet(report)))
