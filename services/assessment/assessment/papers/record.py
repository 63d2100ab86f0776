"""A learner's record across the province as a paper (quá trình học tập) and as a table."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ttct.papers import labels
from ttct.papers.model import FILED, Column, Paper, Sheet, Text, Workbook
from ttct.papers.settings import CentreProfile

TITLE = "Quá trình học tập"
COLUMNS = (
    Column("STT", 0.5, "int", "center"),
    Column("Lớp", 2.5),
    Column("Chương trình", 1.8),
    Column("Trung tâm", 1.8),
    Column("Thời gian", 1.6),
    Column("Đơn vị cử đi học", 1.8),
    Column("Điểm", 0.8, "score", "right"),
    Column("Xếp loại", 1.1),
    Column("Rèn luyện", 1.0),
    Column("Giấy chứng nhận", 1.6),
    Column("Mã lớp", 2.4, outputs=FILED),
)


def _outcome(line: dict) -> str:
    if line["cancelled"]:
        return "Lớp bị hủy"
    if line["withdrawn"]:
        return "Thôi học"
    if not line["finalised"]:
        return "Đang học"
    if not line["eligible"]:
        return "Không đủ điều kiện dự thi"
    return labels.grade(line["grade_band"])


def _certificate(line: dict) -> str:
    if not line["certificate_number"]:
        return ""
    return line["certificate_number"] + (" (đã thu hồi)" if line["certificate_revoked"] else "")


def record_sheet(record: dict, centre_name: Callable[[str], str]) -> Sheet:
    rows = tuple((i, x["class_title"], labels.programme(x["programme_type"]),
                  x.get("centre_name") or centre_name(x["centre"]),
                  f"{labels.day(x['starts_on'])}–{labels.day(x['ends_on'])}", x["organisation_name"],
                  x["final_score"], _outcome(x), labels.conduct(x["conduct"]), _certificate(x), x["class_id"])
                 for i, x in enumerate(record["classes"], 1))
    return Sheet(TITLE, COLUMNS, rows, total=f"Đã hoàn thành {record['completed']} chương trình; "
                                             f"{record['certificates']} giấy chứng nhận còn hiệu lực.")


def record_paper(issuer: CentreProfile, on: date, record: dict, centre_name: Callable[[str], str]) -> Paper:
    return Paper(heading=issuer.heading(on, "QTHT/TTCT"), title=TITLE,
                 lines=(f"Học viên: {record['full_name']}", f"Mã học viên: {record['learner_id']}"),
                 body=(record_sheet(record, centre_name),
                       Text("Số liệu từ kết quả học tập các trung tâm chính trị trong tỉnh đã ghi nhận.", "note")),
                 signatures=(issuer.signature(),), recipients=("Như trên;", "Lưu VP."), landscape=True,
                 subject=f"{TITLE} – {record['full_name']}")


def record_book(record: dict, centre_name: Callable[[str], str]) -> Workbook:
    return Workbook(f"{TITLE} – {record['full_name']}", (record_sheet(record, centre_name),))
