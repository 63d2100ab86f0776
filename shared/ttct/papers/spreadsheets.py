"""Tables as files another program reads: XLSX (openpyxl) and CSV, with Vietnamese headers.

XLSX keeps dates as dates (shown DD/MM/YYYY) and numbers as numbers; the header row is the first, frozen, one
worksheet per sheet. CSV is UTF-8 with a byte-order mark (so Excel shows the diacritics), comma-separated, with
dates as YYYY-MM-DD and a decimal point, as the API's JSON gives them.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ttct.papers.model import Column, Sheet, Workbook

_FORMATS = {"date": "DD/MM/YYYY", "score": "0.0", "decimal": "0.00", "ratio": "0.0%"}
_INVALID_IN_NAMES = str.maketrans({c: "-" for c in "[]:*?/\\"})


def _cell(value: Any, column: Column) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    if column.kind == "bool" and value is not None:
        return "Có" if value else "Không"
    return value


def xlsx(book: Workbook) -> bytes:
    from openpyxl import Workbook as Book
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    out = Book()
    out.remove(out.active)
    out.properties.title, out.properties.subject, out.properties.creator = book.title, book.subject, book.creator
    used: set[str] = set()
    for sheet in book.sheets:
        name = sheet.name.translate(_INVALID_IN_NAMES)[:31]
        while name in used:  # worksheet names must differ
            name = f"{name[:28]}-{len(used)}"
        used.add(name)
        ws = out.create_sheet(name)
        columns, rows = sheet.for_output("xlsx")
        ws.append([c.header for c in columns])
        for row in rows:
            ws.append([_cell(v, c) for v, c in zip(row, columns, strict=True)])
        for i, column in enumerate(columns, 1):
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = max(8, min(60, column.width * 12))
            header = ws.cell(1, i)
            header.font, header.alignment = Font(bold=True), Alignment(wrap_text=True, vertical="center")
            header.fill = PatternFill("solid", fgColor="ECECEC")
            if column.kind in _FORMATS:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = _FORMATS[column.kind]
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def _text(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(_cell(value, column))


def csv_bytes(sheet: Sheet) -> bytes:
    columns, rows = sheet.for_output("csv")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    writer.writerows([_text(v, c) for v, c in zip(row, columns, strict=True)] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode()
