"""What scheduling prints: a class's timetable (lịch học), from its class and session views."""
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
