"""A notice as an email: a Vietnamese subject and an HTML body, from the notice's payload alone (pure), so a
retried or replayed email says exactly what the first one said."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from ttct.papers import labels
from ttct.papers.reports import decision_line

from notification.domain import kinds
from notification.domain.notices import RESULT_RECORDED


@dataclass(frozen=True)
class Email:
    subject: str
    html: str
    text: str


def _d(iso_date: str | None) -> str:
    return date.fromisoformat(iso_date).strftime("%d/%m/%Y") if iso_date else ""


def _subject(kind: str, d: dict[str, Any]) -> str:
    who, cls = d.get("full_name", ""), d.get("class_title") or ""
    match kind:
        case kinds.ENROLMENT_CONFIRMED:
            return f"Xác nhận ghi danh: {who} – {cls}"
        case kinds.ENROLMENT_PROMOTED:
            return f"Được xếp chỗ từ danh sách chờ: {who} – {cls}"
        case kinds.ENROLMENT_WAITLISTED:
            return f"Danh sách chờ: {who} – {cls} (vị trí {d['position']})"
        case kinds.CLASS_CANCELLED:
            return f"Hủy lớp học: {cls}"
        case kinds.ABSENT:
            return f"Học viên vắng mặt: {who} – {cls} – ngày {_d(d['session_date'])}"
        case kinds.ELIGIBILITY_LOST:
            return f"Học viên không đủ điều kiện dự kiểm tra: {who} – {cls}"
        case kinds.ELIGIBILITY_RESTORED:
            return f"Học viên đủ điều kiện dự kiểm tra trở lại: {who} – {cls}"
        case kinds.RESULT_REPORT:
            return f"{kinds.REPORT_TITLE} – {cls} – {d['centre_name']}"
        case "endpoint.disabled":
            return f"Địa chỉ webhook đã bị tạm dừng: {d['url']}"
        case kinds.CLASS_DIGEST:
            return f"Tổng hợp thông báo ({d['count']}): {cls}"
        case _ if kind == RESULT_RECORDED:
            return f"Kết quả học tập: {who} – {cls}"
    return f"Thông báo: {cls}"


def _lines(kind: str, d: dict[str, Any]) -> list[str]:
    who, cls = d.get("full_name", ""), d.get("class_title") or ""
    match kind:
        case kinds.ENROLMENT_CONFIRMED:
            return [(f"Học viên {who} (sinh ngày {_d(d['date_of_birth'])}) đã được ghi danh vào lớp {cls}, "
                     f"số thứ tự chỗ ngồi {d['seat_number']}.")]
        case kinds.ENROLMENT_PROMOTED:
            return [f"Học viên {who} đã được chuyển từ danh sách chờ vào lớp {cls}, chỗ ngồi {d['seat_number']}."]
        case kinds.ENROLMENT_WAITLISTED:
            return [(f"Lớp {cls} đã đủ chỗ; học viên {who} được đưa vào danh sách chờ, vị trí {d['position']}. "
                     "Trung tâm sẽ thông báo khi học viên được xếp chỗ.")]
        case kinds.CLASS_CANCELLED:
            names = ", ".join(x["full_name"] for x in d["learners"])
            return [f"Lớp {cls} đã bị hủy. Lý do: {d['reason']}.", f"Học viên của đơn vị: {names}."]
        case kinds.ABSENT:
            return [f"Học viên {who} vắng mặt buổi học ngày {_d(d['session_date'])} của lớp {cls}."]
        case kinds.ELIGIBILITY_LOST:
            return [(f"Học viên {who} đã vắng {d['absences']}/{d['sessions_counted']} buổi học của lớp {cls}, "
                     f"vượt quá {round(d['max_absence_ratio'] * 100)}% số buổi, nên không đủ điều kiện dự kiểm tra "
                     "cuối khóa.")]
        case kinds.ELIGIBILITY_RESTORED:
            return [(f"Học viên {who} hiện vắng {d['absences']}/{d['sessions_counted']} buổi học của lớp {cls}, "
                     f"không quá {round(d['max_absence_ratio'] * 100)}% số buổi (sau khi điều chỉnh điểm danh hoặc "
                     "hủy buổi học), nên đủ điều kiện dự kiểm tra cuối khóa trở lại.")]
        case kinds.RESULT_REPORT:
            s = d["summary"]
            return [*(f"{decision_line(x)} về việc cử học viên đi học;" for x in d.get("dispatch_decisions") or ()),
                    (f"{d['centre_name']} trân trọng thông báo kết quả học tập, rèn luyện của học viên đơn vị cử "
                     f"tham gia lớp {cls}: {s['passed']}/{s['learners']} học viên đạt yêu cầu."),
                    "Chi tiết trong bảng dưới đây và tệp PDF đính kèm."]
        case kinds.CLASS_DIGEST:
            return [_subject(item["type"], item["data"]) for item in d["notices"]]
        case "endpoint.disabled":
            return [(f"Địa chỉ nhận thông báo {d['url']} liên tục gửi lỗi nên đã bị tạm dừng ({d['reason']}). "
                     "Thông báo vẫn được lưu và có thể xem hoặc gửi lại sau khi đơn vị sửa địa chỉ.")]
        case _ if kind == RESULT_RECORDED:
            return [f"Học viên {who}, lớp {cls}: điểm {labels.score(d['score'])}, xếp loại {d['grade_label']}."]
    return []


REPORT_COLUMNS = ("STT", "Họ và tên", "Chuyên cần", "Điểm", "Xếp loại", "Kết quả", "Rèn luyện", "Số chứng chỉ")


def report_rows(d: dict[str, Any]) -> list[tuple[str, ...]]:
    return [(str(i), x["full_name"], f"{x['sessions_attended']}/{x['sessions_counted']}",
             labels.score(x["final_score"]),
             x["grade_label"] or ("Không đủ điều kiện" if not x["eligible"] else "—"),
             "Đạt" if x["passed"] else "Không đạt", x["conduct_label"] or "—", x["certificate_number"] or "—")
            for i, x in enumerate(d["learners"], 1)]


def render(body: dict[str, Any], contact_name: str | None = None) -> Email:
    kind, d = body["type"], body["data"]
    org = d["sending_organisation"]["name"]
    lines = _lines(kind, d)
    greeting = f"Kính gửi: {contact_name} – {org}" if contact_name else f"Kính gửi: {org}"
    parts = [f"<p>{escape(greeting)}</p>", *(f"<p>{escape(line)}</p>" for line in lines)]
    if kind == kinds.RESULT_REPORT:
        head = "".join(f"<th>{escape(c)}</th>" for c in REPORT_COLUMNS)
        rows = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>" for row in report_rows(d))
        parts.insert(0, f"<h1>{escape(kinds.REPORT_TITLE)}</h1><p>{escape(d['centre_name'])}</p>")
        parts.append(f'<table border="1" cellpadding="4" cellspacing="0"><tr>{head}</tr>{rows}</table>')
    parts.append(f"<p style=\"color:#666\">Mã thông báo: {escape(d.get('notice_id', ''))}</p>")
    html = f'<!doctype html><html lang="vi"><meta charset="utf-8"><body>{"".join(parts)}</body></html>'
    return Email(_subject(kind, d), html, "\n\n".join([greeting, *lines]))
