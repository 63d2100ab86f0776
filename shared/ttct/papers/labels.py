"""The words and numbers papers print, in Vietnamese: programme types, conduct, attendance, dates and scores."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from ttct.contracts.types import GradeBand, ProgrammeType

PROGRAMME_TYPES: dict[str, str] = {
    ProgrammeType.so_cap_llct: "Sơ cấp lý luận chính trị",
    ProgrammeType.ket_nap_dang: "Bồi dưỡng lý luận chính trị cho đối tượng kết nạp Đảng",
    ProgrammeType.dang_vien_moi: "Bồi dưỡng đảng viên mới",
    ProgrammeType.chuyen_de: "Chuyên đề cho cán bộ chủ chốt xã, thị trấn, khối đoàn thể",
    ProgrammeType.nghiep_vu: "Nghiệp vụ công tác Đảng, chính quyền, đoàn thể, công đoàn",
    ProgrammeType.quoc_phong_an_ninh: "Quốc phòng – an ninh",
    ProgrammeType.ky_nang: "Kỹ năng giao tiếp",
    ProgrammeType.trien_khai_nghi_quyet: "Triển khai nghị quyết",
    ProgrammeType.can_bo_nguon: "Bồi dưỡng cán bộ nguồn quy hoạch",
}
CONDUCT: dict[str, str] = {"tot": "Tốt", "kha": "Khá", "trung_binh": "Trung bình", "yeu": "Yếu"}
ATTENDANCE: dict[str, str] = {"present": "Có mặt", "absent": "Vắng", "excused": "Vắng có phép"}
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
_WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


def programme(programme_type: str | None) -> str:
    return PROGRAMME_TYPES.get(programme_type or "", programme_type or "")


def grade(band: str | None) -> str:
    return GradeBand(band).label if band else ""


def conduct(rating: str | None) -> str:
    return CONDUCT.get(rating or "", rating or "")


def local_day(moment: datetime) -> date:
    """The day it is in Vietnam at `moment` (a paper's date)."""
    return moment.astimezone(VIETNAM).date()


def day(on: date | None) -> str:
    """03/12/2026"""
    return on.strftime("%d/%m/%Y") if on else ""


def weekday(on: date) -> str:
    """Thứ Năm, 03/12/2026"""
    return f"{_WEEKDAYS[on.weekday()]}, {day(on)}"


def clock(at: time | None) -> str:
    return at.strftime("%H:%M") if at else ""


def date_line(place: str | None, on: date) -> str:
    """The date line of a party body's document: "Hậu Lộc, ngày 05 tháng 02 năm 2026" (a day below 10 and the
    months January and February written with two digits)."""
    month = f"{on.month:02d}" if on.month < 3 else str(on.month)
    when = f"ngày {on.day:02d} tháng {month} năm {on.year}"
    return f"{place}, {when}" if place else when.capitalize()


def score(value: float | Decimal | None) -> str:
    """8,5 (a decimal comma); — when there is none."""
    return "—" if value is None else f"{Decimal(str(value)):.1f}".replace(".", ",")


def decimal(value: float | Decimal | None) -> str:
    """37,5 or 4,67 (a decimal comma, at most two places); empty when there is none."""
    if value is None:
        return ""
    text = f"{Decimal(str(value)):.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def ratio(value: float | None) -> str:
    """66,7%"""
    return "—" if value is None else f"{value * 100:.1f}%".replace(".", ",")


def class_lines(title: str, programme_type: str | None = None, starts_on: date | None = None,
                ends_on: date | None = None) -> tuple[str, ...]:
    """The lines under a paper's title that say which class it is about (those known)."""
    lines = [f"Lớp: {title}"]
    if programme_type:
        lines.append(f"Chương trình: {programme(programme_type)}")
    if starts_on and ends_on:
        lines.append(f"Thời gian: từ ngày {day(starts_on)} đến ngày {day(ends_on)}")
    return tuple(lines)
