"""The class result report (Thông báo kết quả học tập) of one sending organisation, printed by two services from
the same lines: assessment for the centre's staff (from its final results) and notification for the organisation
(from the results it was sent). A line is a dict as notification's report notice carries it: learner_id,
full_name, eligible, sessions_attended, sessions_counted, final_score, grade_band, passed, conduct,
certificate_number. The organisation's dispatch decisions (quyết định cử đi học) that sent them, when known, are
cited above the table, one line each.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ttct.domain.names import name_sort_key
from ttct.papers import labels
from ttct.papers.model import FILED, PRINTED, Column, Paper, Sheet, Text
from ttct.papers.settings import CentreProfile

TITLE = "Thông báo kết quả học tập"


@dataclass(frozen=True)
class ReportedClass:
    title: str
    programme_type: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None


COLUMNS = (
    Column("STT", 0.5, "int", "center"),
    Column("Mã học viên", 2.4, outputs=FILED),
    Column("Họ và tên", 2.6),
    Column("Mã đơn vị", 1.4, outputs=FILED),
    Column("Đơn vị cử học viên", 2.4, outputs=FILED),
    Column("Chuyên cần", 1.0, align="center", outputs=PRINTED),
    Column("Số buổi có mặt", 1.0, "int", "center", outputs=FILED),
    Column("Số buổi tính", 1.0, "int", "center", outputs=FILED),
    Column("Đủ điều kiện dự thi", 1.0, "bool", "center", outputs=FILED),
    Column("Điểm", 0.7, "score", "center"),
    Column("Xếp loại", 1.3, align="center"),
    Column("Kết quả", 1.0, align="center"),
    Column("Rèn luyện", 1.0, align="center"),
    Column("Số giấy chứng nhận", 1.8, align="center"),
)


def _grade(line: dict[str, Any]) -> str:
    if not line["eligible"]:
        return "Không đủ điều kiện"
    return labels.grade(line.get("grade_band")) or "—"


def sheet(organisation: dict[str, str], lines: Sequence[dict[str, Any]], name: str = "Kết quả") -> Sheet:
    """The organisation's learners, sorted the Vietnamese way."""
    ordered = sorted(lines, key=lambda x: name_sort_key(x["full_name"]))
    rows = tuple((i, x["learner_id"], x["full_name"], organisation["code"], organisation["name"],
                  f"{x['sessions_attended']}/{x['sessions_counted']}", x["sessions_attended"], x["sessions_counted"],
                  x["eligible"], x.get("final_score"), _grade(x), "Đạt" if x["passed"] else "Không đạt",
                  labels.conduct(x.get("conduct")) or "—", x.get("certificate_number") or "—")
                 for i, x in enumerate(ordered, 1))
    passed = sum(1 for x in lines if x["passed"])
    return Sheet(name, COLUMNS, rows, total=f"Tổng số: {len(lines)} học viên; đạt yêu cầu: {passed}.")


def decision_line(decision: Mapping[str, Any]) -> str:
    """"Theo Quyết định số 125-QĐ/ĐU ngày 28/10/2026 của Ban Thường vụ Đảng ủy xã Hoa Lộc" (a dict as the notice
    carries it: number, signed_on as an ISO date or a date, signer)."""
    signed = decision["signed_on"]
    signed = signed if isinstance(signed, date) else date.fromisoformat(signed)
    return f"Theo Quyết định số {decision['number']} ngày {labels.day(signed)} của {decision['signer']}"


def paper(centre: CentreProfile, on: date, reported: ReportedClass, organisation: dict[str, str],
          lines: Sequence[dict[str, Any]], decisions: Sequence[Mapping[str, Any]] = ()) -> Paper:
    """`decisions`: the organisation's dispatch decisions that sent the learners of `lines`, cited in order."""
    return Paper(
        heading=centre.heading(on, "TB/TTCT"),
        title=TITLE, lines=labels.class_lines(reported.title, reported.programme_type, reported.starts_on,
                                              reported.ends_on),
        addressee=f"Kính gửi: {organisation['name']}",
        body=(*(Text(f"{decision_line(d)} về việc cử học viên đi học;") for d in decisions),
              Text(f"{centre.name} trân trọng thông báo kết quả học tập, rèn luyện của học viên do đơn vị cử tham "
                   "gia lớp học như sau:"), sheet(organisation, lines),
              Text(f"{centre.name} đề nghị đơn vị quan tâm, tạo điều kiện để học viên vận dụng kiến thức đã học vào "
                   "thực tiễn công tác.")),
        signatures=(centre.signature(),),
        recipients=(f"{organisation['name']};", "Lưu VP."), landscape=True,
        subject=f"{TITLE} – {reported.title} – {organisation['name']}")
