"""What a paper says, apart from how it is drawn: a heading, a title, tables and text, signatures. The services
build these from their views; `pdf.py` draws them on A4, `spreadsheets.py` writes their tables as XLSX and CSV.

A table (`Sheet`) holds raw values (text, numbers, dates, None), so the PDF prints them the Vietnamese way
(03/12/2026, 8,5) while a spreadsheet keeps them as dates and numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Kind = Literal["text", "int", "score", "decimal", "date", "ratio", "bool"]
Output = Literal["pdf", "xlsx", "csv"]
EVERYWHERE: frozenset[Output] = frozenset({"pdf", "xlsx", "csv"})
PRINTED: frozenset[Output] = frozenset({"pdf"})
FILED: frozenset[Output] = frozenset({"xlsx", "csv"})


@dataclass(frozen=True)
class Column:
    header: str
    """Vietnamese, as the user reads it"""
    width: float = 1.0
    """share of the printed table's width (relative to the other columns)"""
    kind: Kind = "text"
    align: Literal["left", "center", "right"] = "left"
    outputs: frozenset[Output] = EVERYWHERE
    """where the column appears: a signature column only on paper, an id only in files"""


@dataclass(frozen=True)
class Sheet:
    name: str
    """the worksheet's name (at most 31 characters)"""
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    caption: str | None = None
    """printed above the table (e.g. the organisation a section lists)"""
    row_height: float | None = None
    """millimetres per printed row (room for a signature); None: as the text needs"""
    total: str | None = None
    """printed under the table (e.g. "Tổng số: 6 học viên")"""
    total_row: bool = False
    """the last row sums the others (printed bold)"""

    def for_output(self, output: Output) -> tuple[tuple[Column, ...], list[tuple[Any, ...]]]:
        keep = [i for i, c in enumerate(self.columns) if output in c.outputs]
        return tuple(self.columns[i] for i in keep), [tuple(row[i] for i in keep) for row in self.rows]


@dataclass(frozen=True)
class Text:
    text: str
    style: Literal["body", "caption", "note"] = "body"


@dataclass(frozen=True)
class Heading:
    """The heading of a party body's document: the issuing body (and its superior) on the left with the paper's
    number, "ĐẢNG CỘNG SẢN VIỆT NAM" on the right over the place and date."""

    body: str
    on: date
    superior: str | None = None
    place: str | None = None
    number: str | None = None
    """the kind and issuer after the number, e.g. "DS/TTCT": printed "Số     -DS/TTCT", the number left for the
    office to write in"""


@dataclass(frozen=True)
class Signature:
    title: str
    """e.g. "GIÁM ĐỐC" (printed in capitals)"""
    on_behalf: str | None = None
    """e.g. "T/M TRUNG TÂM", above the title"""
    name: str | None = None


@dataclass(frozen=True)
class Paper:
    heading: Heading
    title: str
    lines: tuple[str, ...] = ()
    """under the title, centred: the class, its dates ..."""
    addressee: str | None = None
    """"Kính gửi: …" for a notice"""
    body: tuple[Sheet | Text, ...] = ()
    signatures: tuple[Signature, ...] = ()
    recipients: tuple[str, ...] = ()
    """"Nơi nhận:", left of the signature"""
    landscape: bool = False
    subject: str = ""
    """the PDF's subject property"""


@dataclass(frozen=True)
class Workbook:
    """The same data for spreadsheets: one worksheet per sheet; CSV is the first sheet."""

    title: str
    sheets: tuple[Sheet, ...]
    subject: str = ""
    creator: str = field(default="Trung tâm Chính trị")
