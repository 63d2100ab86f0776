"""Papers drawn on A4 with ReportLab: the party document's heading, the title, tables that repeat their header on
every page, the signature block beside "Nơi nhận", and "Trang x/y" at the foot of each page.

Several papers may go in one file (a class's result reports, one per organisation), each from a new page.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    CondPageBreak, Flowable, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle,
)

from ttct.papers import fonts, labels
from ttct.papers.model import Column, Heading, Paper, Sheet, Signature, Text

PARTY = "ĐẢNG CỘNG SẢN VIỆT NAM"
NUMBER_GAP = "\u00a0" * 12
MARGINS = {"left": 25 * mm, "right": 15 * mm, "top": 15 * mm, "bottom": 15 * mm}
GRID = colors.HexColor("#555555")
HEADER_FILL = colors.HexColor("#ececec")


class Styles:
    def __init__(self, family: fonts.Family) -> None:
        def style(name: str, font: str, size: float, align: int = TA_LEFT, **more: Any) -> ParagraphStyle:
            return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.3, alignment=align, **more)

        self.family = family
        self.head = style("head", family.regular, 12, TA_CENTER)
        self.head_bold = style("head-bold", family.bold, 12, TA_CENTER)
        self.party = style("party", family.bold, 13, TA_CENTER)
        self.date_line = style("date-line", family.italic, 12, TA_CENTER)
        self.title = style("title", family.bold, 14, TA_CENTER, spaceBefore=4 * mm)
        self.line = style("line", family.regular, 12, TA_CENTER)
        self.addressee = style("addressee", family.regular, 12, TA_CENTER, spaceBefore=2 * mm)
        self.body = style("body", family.regular, 12, TA_JUSTIFY, firstLineIndent=10 * mm, spaceBefore=1.5 * mm)
        self.caption = style("caption", family.bold, 12, TA_LEFT, spaceBefore=3 * mm, spaceAfter=1.5 * mm)
        self.note = style("note", family.italic, 11, TA_LEFT, spaceBefore=2 * mm)
        self.cell = {a: style(f"cell-{a}", family.regular, 10, align) for a, align in
                     (("left", TA_LEFT), ("center", TA_CENTER), ("right", TA_RIGHT))}
        self.header_cell = style("header-cell", family.bold, 10, TA_CENTER)
        self.recipients_head = style("recipients-head", family.bold_italic, 11, TA_LEFT)
        self.recipient = style("recipient", family.regular, 10, TA_LEFT)
        self.sign = style("sign", family.bold, 12, TA_CENTER)


class Rule(Flowable):
    """A short line under a centred heading line ("ĐẢNG CỘNG SẢN VIỆT NAM")."""

    def __init__(self, width: float) -> None:
        super().__init__()
        self.line_width = width

    def wrap(self, available_width: float, _height: float) -> tuple[float, float]:
        self._available = available_width
        return available_width, 2

    def draw(self) -> None:
        start = (self._available - self.line_width) / 2
        self.canv.setLineWidth(0.6)
        self.canv.line(start, 1, start + self.line_width, 1)


def cell_text(value: Any, column: Column) -> str:
    """A value as the paper prints it."""
    if value is None:
        return "—" if column.kind == "score" else ""
    match column.kind:
        case "score":
            return labels.score(value)
        case "decimal":
            return labels.decimal(value)
        case "date":
            return labels.day(value)
        case "ratio":
            return labels.ratio(value)
        case "bool":
            return "Có" if value else "Không"
        case "int" if isinstance(value, Decimal | float):
            return f"{value:g}"
    return str(value)


def _heading(h: Heading, s: Styles, width: float) -> Table:
    left = [Paragraph(escape(h.superior.upper()), s.head)] if h.superior else []
    left += [Paragraph(escape(h.body.upper()), s.head_bold), Paragraph("*", s.head)]
    if h.number:
        left.append(Paragraph(escape(f"Số{NUMBER_GAP}-{h.number}"), s.head))  # the office writes the number in
    right = [Paragraph(PARTY, s.party), Rule(stringWidth(PARTY, s.family.bold, 13)), Spacer(1, 2 * mm),
             Paragraph(escape(labels.date_line(h.place, h.on)), s.date_line)]
    table = Table([[left, right]], colWidths=[width * 0.45, width * 0.55])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def column_widths(columns: Sequence[Column], width: float, least: float = 12 * mm) -> list[float]:
    """Each column's share of `width`, none narrower than `least` (so "STT" never breaks)."""
    total = sum(c.width for c in columns)
    widths = [width * c.width / total for c in columns]
    narrow = [w < least for w in widths]
    rest = sum(w for w, n in zip(widths, narrow, strict=True) if not n)
    spare = width - least * sum(narrow)
    return [least if n else w * spare / rest for w, n in zip(widths, narrow, strict=True)] if rest else widths


def _table(sheet: Sheet, s: Styles, width: float) -> list[Flowable]:
    columns, rows = sheet.for_output("pdf")
    header = [Paragraph(escape(c.header), s.header_cell) for c in columns]
    body = [[Paragraph(escape(cell_text(v, c)), s.cell[c.align]) for v, c in zip(row, columns, strict=True)]
            for row in rows]
    heights = [None] + [sheet.row_height * mm] * len(body) if sheet.row_height else None
    table = Table([header, *body], colWidths=column_widths(columns, width), repeatRows=1, rowHeights=heights)
    style = [("GRID", (0, 0), (-1, -1), 0.5, GRID), ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
             ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    if sheet.total_row and body:
        body[-1] = [Paragraph(f"<b>{escape(cell_text(v, c))}</b>", s.cell[c.align])
                    for v, c in zip(rows[-1], columns, strict=True)]
        style.append(("BACKGROUND", (0, len(body)), (-1, len(body)), HEADER_FILL))
    table = Table([header, *body], colWidths=column_widths(columns, width), repeatRows=1, rowHeights=heights)
    table.setStyle(TableStyle(style))
    out: list[Flowable] = [CondPageBreak(30 * mm)]
    if sheet.caption:
        out.append(Paragraph(escape(sheet.caption), s.caption))
    out.append(table)
    if sheet.total:
        out.append(Paragraph(escape(sheet.total), s.note))
    return out


def _signature(sig: Signature, s: Styles) -> list[Flowable]:
    out = [Paragraph(escape(sig.on_behalf.upper()), s.sign)] if sig.on_behalf else []
    out += [Paragraph(escape(sig.title.upper()), s.sign), Spacer(1, 20 * mm)]
    if sig.name:
        out.append(Paragraph(escape(sig.name), s.sign))
    return out


def _closing(paper: Paper, s: Styles, width: float, last: list[Flowable]) -> Flowable:
    cells: list[list[Flowable]] = []
    if paper.recipients:
        cells.append([Paragraph("Nơi nhận:", s.recipients_head),
                      *(Paragraph(escape(f"- {r}"), s.recipient) for r in paper.recipients)])
    cells += [_signature(sig, s) for sig in paper.signatures]
    if len(cells) == 1 and paper.signatures:  # a lone signature sits on the right
        cells.insert(0, [])
    table = Table([cells], colWidths=[width / len(cells)] * len(cells))
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return KeepTogether([*last, Spacer(1, 4 * mm), table])


def flowables(paper: Paper, family: fonts.Family, width: float) -> list[Flowable]:
    s = Styles(family)
    out: list[Flowable] = [_heading(paper.heading, s, width), Paragraph(escape(paper.title.upper()), s.title)]
    out += [Paragraph(escape(line), s.line) for line in paper.lines]
    if paper.addressee:
        out.append(Paragraph(escape(paper.addressee), s.addressee))
    out.append(Spacer(1, 3 * mm))
    for block in paper.body:
        if isinstance(block, Sheet):
            out += _table(block, s, width)
        elif isinstance(block, Text):
            out.append(Paragraph(escape(block.text), getattr(s, block.style)))
    if paper.signatures or paper.recipients:
        # a signature never stands alone on a page: a closing paragraph goes with it
        last = [out.pop()] if paper.body and isinstance(paper.body[-1], Text) else []
        out.append(_closing(paper, s, width, last))
    return out


class _NumberedCanvas(canvas.Canvas):
    """Writes "Trang x/y" once the number of pages is known (the pages are kept until the document is saved)."""

    font = "Helvetica"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        for page in self._pages:
            self.__dict__.update(page)
            width = self._pagesize[0]
            self.setFont(self.font, 9)
            self.setFillColor(colors.HexColor("#444444"))
            self.drawCentredString(width / 2, 7 * mm, f"Trang {self._pageNumber}/{len(self._pages)}")
            super().showPage()
        super().save()


def render(papers: Sequence[Paper], font_file: str | None = None) -> bytes:
    """One PDF of the papers, each from a new page (the first one's orientation and properties for the file)."""
    family = fonts.register(font_file)
    first = papers[0]
    size = landscape(A4) if first.landscape else A4
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=size, title=first.title, author=first.heading.body,
                            subject=first.subject, creator="ttct.papers", **{f"{k}Margin": v for k, v in
                                                                             MARGINS.items()})
    story: list[Flowable] = []
    for i, paper in enumerate(papers):
        if i:
            story.append(PageBreak())
        story += flowables(paper, family, doc.width)
    numbered = type("Numbered", (_NumberedCanvas,), {"font": family.italic})
    doc.build(story, canvasmaker=numbered)
    return buffer.getvalue()
