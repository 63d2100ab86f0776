"""Certificates (giấy chứng nhận), one per landscape A4 page: the centre's heading, the learner, the programme
and class, the grade, the number and a QR code that leads to the public verification of this certificate.

Drawn on the canvas rather than flowed: a certificate is a fixed layout, every element in its place.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from ttct.papers import fonts, labels
from ttct.papers.pdf import PARTY
from ttct.papers.settings import CentreProfile

RED = colors.HexColor("#a31d1d")
GOLD = colors.HexColor("#b8901c")
WIDTH, HEIGHT = landscape(A4)


@dataclass(frozen=True)
class Certificate:
    number: str
    verification_code: str
    verification_url: str
    """what the QR code holds: the public verification of this certificate"""
    full_name: str
    programme: str
    class_title: str
    issued_on: date
    organisation: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    grade: str | None = None
    revoked: bool = False


def qr_drawing(value: str, size: float) -> Drawing:
    widget = QrCodeWidget(value, barLevel="M", barBorder=2)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _centred(c: Canvas, font: str, size: float, x: float, y: float, text: str, colour=colors.black) -> None:
    c.setFont(font, size)
    c.setFillColor(colour)
    c.drawCentredString(x, y, text)


def _paragraph(c: Canvas, text: str, style: ParagraphStyle, y_top: float, width: float = 235 * mm) -> float:
    """Draw a centred paragraph whose top is at `y_top`; answer where the next one starts."""
    p = Paragraph(text, style)
    _, height = p.wrapOn(c, width, 80 * mm)
    p.drawOn(c, (WIDTH - width) / 2, y_top - height)
    return y_top - height - 2.5 * mm


def _page(c: Canvas, cert: Certificate, centre: CentreProfile, f: fonts.Family) -> None:
    c.setStrokeColor(RED)
    c.setLineWidth(3)
    c.rect(8 * mm, 8 * mm, WIDTH - 16 * mm, HEIGHT - 16 * mm)
    c.setStrokeColor(GOLD)
    c.setLineWidth(1)
    c.rect(11 * mm, 11 * mm, WIDTH - 22 * mm, HEIGHT - 22 * mm)
    left, right, top = 78 * mm, WIDTH - 78 * mm, HEIGHT - 24 * mm
    if centre.superior:
        _centred(c, f.regular, 11, left, top, centre.superior.upper())
    _centred(c, f.bold, 11, left, top - 5.5 * mm, centre.name.upper())
    _centred(c, f.regular, 11, left, top - 10.5 * mm, "*")
    _centred(c, f.bold, 12, right, top, PARTY)
    half = c.stringWidth(PARTY, f.bold, 12) / 2
    c.setLineWidth(0.6)
    c.setStrokeColor(colors.black)
    c.line(right - half, top - 2 * mm, right + half, top - 2 * mm)
    _centred(c, f.bold, 32, WIDTH / 2, HEIGHT - 58 * mm, "GIẤY CHỨNG NHẬN", RED)

    def style(font: str, size: float, leading: float | None = None) -> ParagraphStyle:
        return ParagraphStyle(font, fontName=font, fontSize=size, leading=leading or size * 1.35,
                              alignment=TA_CENTER)

    y = _paragraph(c, escape(f"{centre.director_title} {centre.name} chứng nhận".upper()), style(f.bold, 13),
                   HEIGHT - 66 * mm)
    y = _paragraph(c, f"Đồng chí: <font name='{f.bold}' size='20'>{escape(cert.full_name)}</font>",
                   style(f.regular, 14, 27), y - 2 * mm)
    if cert.organisation:
        y = _paragraph(c, escape(f"Đơn vị: {cert.organisation}"), style(f.regular, 13), y)
    y = _paragraph(c, f"Đã hoàn thành chương trình <b>{escape(cert.programme)}</b>", style(f.regular, 13), y)
    when = f", từ ngày {labels.day(cert.starts_on)} đến ngày {labels.day(cert.ends_on)}" \
        if cert.starts_on and cert.ends_on else ""
    y = _paragraph(c, escape(f"{cert.class_title}{when}"), style(f.italic, 12), y)
    if cert.grade:
        _paragraph(c, f"Xếp loại: <b>{escape(cert.grade)}</b>", style(f.regular, 14), y)

    size = 30 * mm
    renderPDF.draw(qr_drawing(cert.verification_url, size), c, 20 * mm, 17 * mm)
    c.setFillColor(colors.black)
    for i, (font, points, text) in enumerate(((f.bold, 11, f"Số: {cert.number}"),
                                              (f.regular, 10, f"Mã xác minh: {cert.verification_code}"),
                                              (f.italic, 9, "Quét mã QR để xác minh giấy chứng nhận"))):
        c.setFont(font, points)
        c.drawString(20 * mm + size + 3 * mm, 38 * mm - i * 5.5 * mm, text)
    _centred(c, f.italic, 12, right, 52 * mm, labels.date_line(centre.place, cert.issued_on))
    _centred(c, f.bold, 12, right, 45 * mm, centre.director_title.upper())
    if centre.director:
        _centred(c, f.bold, 12, right, 20 * mm, centre.director)
    if cert.revoked:
        c.saveState()
        c.setFillColor(colors.Color(0.75, 0.1, 0.1, alpha=0.25))
        c.translate(WIDTH / 2, HEIGHT / 2)
        c.rotate(20)
        c.setFont(f.bold, 72)
        c.drawCentredString(0, 0, "ĐÃ THU HỒI")
        c.restoreState()


def render(certificates: Sequence[Certificate], centre: CentreProfile, font_file: str | None = None) -> bytes:
    """One page per certificate, in the order given."""
    family = fonts.register(font_file)
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=(WIDTH, HEIGHT))
    c.setTitle("Giấy chứng nhận" if len(certificates) != 1 else f"Giấy chứng nhận số {certificates[0].number}")
    c.setAuthor(centre.name)
    c.setCreator("ttct.papers")
    for cert in certificates:
        _page(c, cert, centre, family)
        c.showPage()
    c.save()
    return buffer.getvalue()
