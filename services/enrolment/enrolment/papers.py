"""What enrolment prints: the class list (danh sách học viên), by sending organisation, from the roster views."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import groupby

from ttct.domain.names import name_sort_key, text_sort_key
from ttct.papers import labels
from ttct.papers.model import FILED, PRINTED, Column, Paper, Sheet, Workbook
from ttct.papers.settings import CentreProfile

TITLE = "Danh sách học viên"
PRINTED_COLUMNS = (
    Column("STT", 0.5, "int", "center"),
    Column("Họ và tên", 3.0),
    Column("Ngày sinh", 1.2, "date", "center"),
    Column("Số chỗ ngồi", 0.9, "int", "center"),
    Column("Ghi chú", 1.8, outputs=PRINTED),
)
FILED_COLUMNS = (
    Column("STT", 0.5, "int"),
    Column("Mã học viên", 3.0),
    Column("Họ và tên", 2.4),
    Column("Ngày sinh", 1.2, "date"),
    Column("Mã đơn vị", 1.4),
    Column("Tên đơn vị", 2.4),
    Column("Số chỗ ngồi", 0.9, "int"),
    Column("Ngày ghi danh", 1.2, "date"),
    Column("Từ danh sách chờ", 1.0, "bool"),
)


def _ordered(roster: Sequence[dict]) -> list[dict]:
    """By organisation (its name, in Vietnamese order), then by learner (given name first)."""
    return sorted(roster, key=lambda r: (text_sort_key(r["organisation_name"]), r["organisation_code"],
                                         name_sort_key(r["full_name"]), str(r["learner_id"])))


def _note(row: dict) -> str:
    return "Từ danh sách chờ" if row["from_waiting_list"] else ""


def _sections(roster: Sequence[dict]) -> list[Sheet]:
    sections = []
    for n, (_, rows) in enumerate(groupby(_ordered(roster), key=lambda r: r["organisation_code"]), 1):
        rows = list(rows)
        sections.append(Sheet(
            rows[0]["organisation_name"], PRINTED_COLUMNS,
            tuple((i, r["full_name"], r["date_of_birth"], r["seat_number"], _note(r)) for i, r in enumerate(rows, 1)),
            caption=f"{n}. {rows[0]['organisation_name']} ({len(rows)} học viên)"))
    return sections


def class_list(centre: CentreProfile, on: date, the_class: dict, roster: Sequence[dict],
               organisation: str | None = None) -> Paper:
    """`the_class`: title, starts_on, ends_on; `organisation`: the one organisation listed, if filtered."""
    lines = list(labels.class_lines(the_class["title"], None, the_class["starts_on"], the_class["ends_on"]))
    sections = _sections(roster)
    if organisation and sections:
        lines.append(f"Đơn vị cử học viên: {sections[0].name}")
        sections = [Sheet(s.name, s.columns, s.rows) for s in sections]  # one organisation: no caption needed
    last = sections[-1] if sections else Sheet(TITLE, PRINTED_COLUMNS, ())
    sections[-1:] = [Sheet(last.name, last.columns, last.rows, caption=last.caption,
                           total=f"Tổng số: {len(roster)} học viên.")]
    return Paper(heading=centre.heading(on, "DS/TTCT"), title=TITLE, lines=tuple(lines), body=tuple(sections),
                 signatures=(centre.signature(),), recipients=("Các đơn vị có học viên;", "Lưu VP."),
                 subject=f"{TITLE} – {the_class['title']}")


def class_list_book(the_class: dict, roster: Sequence[dict]) -> Workbook:
    rows = tuple((i, r["learner_id"], r["full_name"], r["date_of_birth"], r["organisation_code"],
                  r["organisation_name"], r["seat_number"], labels.local_day(r["enrolled_at"]),
                  r["from_waiting_list"]) for i, r in enumerate(_ordered(roster), 1))
    return Workbook(f"{TITLE} – {the_class['title']}", (Sheet(TITLE, FILED_COLUMNS, rows),))
