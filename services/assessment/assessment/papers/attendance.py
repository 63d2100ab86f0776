"""The attendance sheet of a session (học viên ký tên) and the class's attendance summary."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from uuid import UUID

from ttct.domain.names import name_sort_key
from ttct.papers import labels
from ttct.papers.model import FILED, PRINTED, Column, Paper, Sheet, Signature, Text, Workbook
from ttct.papers.settings import CentreProfile

from assessment.domain.attendance import Standing
from assessment.domain.facts import LearnerInClass

SHEET_TITLE = "Danh sách học viên dự học"
SUMMARY_TITLE = "Bảng tổng hợp chuyên cần"
MARKS = {"present": "Có mặt", "absent": "Vắng", "excused": "Vắng có phép"}


def by_name(learners: Sequence[LearnerInClass]) -> list[LearnerInClass]:
    return sorted(learners, key=lambda l: (name_sort_key(l.full_name), str(l.learner_id)))


def _session_lines(session: dict) -> tuple[str, ...]:
    where = f"Địa điểm thực tế: {session['field_trip_site']}" if session["field_trip_site"] else \
        f"Địa điểm: {session['venue'] or ''}"
    slot = f", {labels.clock(session['starts_at'])}–{labels.clock(session['ends_at'])}" if session["starts_at"] else ""
    return (f"Buổi học: {labels.weekday(session['session_date'])}{slot}", f"Nội dung: {session['topic'] or ''}",
            f"Giảng viên: {session['lecturer_name'] or ''}", where)


SHEET_COLUMNS = (
    Column("STT", 0.5, "int", "center"),
    Column("Mã học viên", 2.6, outputs=FILED),
    Column("Họ và tên", 2.6),
    Column("Đơn vị", 2.4),
    Column("Điểm danh", 1.1, align="center"),
    Column("Ký tên", 1.6, outputs=PRINTED),
    Column("Ghi chú", 1.0, outputs=PRINTED),
)


def session_sheet(learners: Sequence[LearnerInClass], marks: Mapping[UUID, str]) -> Sheet:
    rows = tuple((i, l.learner_id, l.full_name, l.sending_organisation.name, MARKS.get(marks.get(l.learner_id, ""), ""),
                  "", "") for i, l in enumerate(by_name(learners), 1))
    return Sheet("Điểm danh", SHEET_COLUMNS, rows, row_height=10, total=f"Tổng số: {len(rows)} học viên.")


def attendance_sheet(centre: CentreProfile, on: date, the_class: dict, session: dict,
                     learners: Sequence[LearnerInClass], marks: Mapping[UUID, str]) -> Paper:
    """`the_class`: title, programme_type, starts_on, ends_on; `session`: its date, slot, topic, lecturer, venue."""
    return Paper(heading=centre.heading(on), title=SHEET_TITLE,
                 lines=(*labels.class_lines(the_class["title"], the_class["programme_type"]),
                        *_session_lines(session)),
                 body=(session_sheet(learners, marks),),
                 signatures=(Signature("Giảng viên", name=session["lecturer_name"]),
                             Signature("Cán bộ quản lý lớp")),
                 subject=f"{SHEET_TITLE} – {the_class['title']} – {labels.day(session['session_date'])}")


STANDING_COLUMNS = (
    Column("STT", 0.5, "int", "center"),
    Column("Mã học viên", 2.6, outputs=FILED),
    Column("Họ và tên", 2.4),
    Column("Mã đơn vị", 1.4, outputs=FILED),
    Column("Đơn vị", 2.2),
    Column("Số buổi tính", 0.9, "int", "center"),
    Column("Có mặt", 0.8, "int", "center"),
    Column("Vắng", 0.8, "int", "center"),
    Column("Vắng có phép", 0.9, "int", "center"),
    Column("Số buổi vắng tính", 0.9, "int", "center"),
    Column("Đủ điều kiện dự thi", 1.0, "bool", "center"),
)


def standings_sheet(listed: Sequence[tuple[LearnerInClass, Standing, bool]]) -> Sheet:
    ordered = sorted(listed, key=lambda x: (name_sort_key(x[0].full_name), str(x[0].learner_id)))
    rows = tuple((i, l.learner_id, l.full_name, l.sending_organisation.code, l.sending_organisation.name,
                  s.sessions_counted, s.attended, s.absent, s.excused, s.absences, s.eligible)
                 for i, (l, s, _) in enumerate(ordered, 1))
    lost = sum(1 for _, s, _ in listed if not s.eligible)
    return Sheet("Chuyên cần", STANDING_COLUMNS, rows,
                 total=f"Tổng số: {len(rows)} học viên; không đủ điều kiện dự thi: {lost}.")


def marks_sheet(learners: Sequence[LearnerInClass], sessions: Sequence[dict],
                marks: Mapping[tuple[UUID, UUID], str]) -> Sheet:
    """One row per learner, one column per session (its date): what was recorded."""
    columns = (Column("STT", 0.5, "int"), Column("Mã học viên", 2.6), Column("Họ và tên", 2.4),
               *(Column(f"{labels.day(s['session_date'])} ({i})", 1.0) for i, s in enumerate(sessions, 1)))
    rows = tuple((i, l.learner_id, l.full_name,
                  *(MARKS.get(marks.get((s["session_id"], l.learner_id), ""), "") for s in sessions))
                 for i, l in enumerate(by_name(learners), 1))
    return Sheet("Điểm danh từng buổi", columns, rows)


def summary(centre: CentreProfile, on: date, the_class: dict,
            listed: Sequence[tuple[LearnerInClass, Standing, bool]], max_absence_ratio: float) -> Paper:
    limit = f"Học viên vắng quá {round(max_absence_ratio * 100)}% số buổi học không đủ điều kiện dự thi cuối khóa."
    return Paper(heading=centre.heading(on, "BC/TTCT"), title=SUMMARY_TITLE,
                 lines=labels.class_lines(the_class["title"], the_class["programme_type"], the_class["starts_on"],
                                          the_class["ends_on"]),
                 body=(standings_sheet(listed), Text(limit, "note")), signatures=(centre.signature(),),
                 recipients=("Lưu VP.",), landscape=True, subject=f"{SUMMARY_TITLE} – {the_class['title']}")


def summary_book(the_class: dict, listed: Sequence[tuple[LearnerInClass, Standing, bool]],
                 sessions: Sequence[dict], marks: Mapping[tuple[UUID, UUID], str]) -> Workbook:
    return Workbook(f"{SUMMARY_TITLE} – {the_class['title']}",
                    (standings_sheet(listed), marks_sheet([l for l, _, _ in listed], sessions, marks)))
