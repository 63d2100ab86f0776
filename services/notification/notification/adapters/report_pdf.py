"""The class result report as a printable PDF (ReportLab), from the notice's payload.

Vietnamese needs glyphs the PDF base fonts lack (ơ, ư, ạ, ễ ...), so a TrueType font is embedded (subset): by
default Noto Sans from the pinned PyPI package `fontpkg-noto-sans`, so every machine renders the same without
system fonts; `REPORT_FONT_FILE` names another, and Debian's DejaVu Sans is the last resort.
"""
from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from notification.domain import kinds
from notification.domain.render import REPORT_COLUMNS, report_rows

FONT = "TTCT-Report"
_SYSTEM = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _packaged_font() -> Path | None:
    try:
        import fontpkg_noto_sans  # optional at import time: a clear error below instead
    except ImportError:
        return None
    found = sorted(Path(fontpkg_noto_sans.__file__).parent.glob("files/NotoSans[[]*.ttf"))
    return found[0] if found else None


@functools.cache
def register_font(path: str | None = None) -> str:
    """Register the report's font once per process; the file used is returned (for the log and the tests)."""
    candidates = [Path(path)] if path else [p for p in (_packaged_font(), _SYSTEM) if p is not None]
    for candidate in candidates:
        if candidate.is_file():
            pdfmetrics.registerFont(TTFont(FONT, str(candidate)))
            return str(candidate)
    raise RuntimeError(f"no font with Vietnamese glyphs found (tried {', '.join(map(str, candidates))}); "
                       "install fontpkg-noto-sans or set REPORT_FONT_FILE")


def render_report(body: dict[str, Any], font_file: str | None = None) -> bytes:
    register_font(font_file)
    d = body["data"]
    title = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=20, alignment=1, spaceAfter=4)
    normal = ParagraphStyle("normal", fontName=FONT, fontSize=10, leading=13)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=9, leading=11)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=15 * mm, title=kinds.REPORT_TITLE,
                            author=d["centre_name"], subject=d["class_title"])
    rows = [[Paragraph(c, cell) for c in REPORT_COLUMNS],
            *([Paragraph(escape(v), cell) for v in row] for row in report_rows(d))]
    table = Table(rows, repeatRows=1, colWidths=[12 * mm, 60 * mm, 25 * mm, 18 * mm, 35 * mm, 25 * mm, 25 * mm,
                                                 45 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    summary = d["summary"]
    doc.build([
        Paragraph(escape(d["centre_name"]), normal),
        Spacer(1, 6 * mm),
        Paragraph(kinds.REPORT_TITLE, title),
        Paragraph(escape(f"Lớp: {d['class_title']}"), normal),
        Paragraph(escape(f"Đơn vị cử học viên: {d['sending_organisation']['name']}"), normal),
        Spacer(1, 4 * mm),
        table,
        Spacer(1, 4 * mm),
        Paragraph(f"Số học viên: {summary['learners']}; đạt yêu cầu: {summary['passed']}.", normal),
        Paragraph(f"Mã thông báo: {d['notice_id']}", normal),
    ])
    return buffer.getvalue()
