"""Reading an uploaded list (CSV or XLSX) into raw rows: a dict per line, keyed by the header as typed.

Validation is the domain's (`enrolment.domain.importing`); this only turns bytes into cells.
"""
from __future__ import annotations

import csv
import io

from ttct.domain.errors import Invalid

XLSX_MAGIC = b"PK\x03\x04"


def _unreadable(kind: str, exc: Exception) -> Invalid:
    return Invalid(f"the file could not be read as {kind}: {exc}", f"Không đọc được tệp {kind}: {exc}",
                   code="unreadable-file")


def read_csv(data: bytes) -> list[dict[str, object]]:
    try:
        text = data.decode("utf-8-sig")  # Excel writes a BOM in front of UTF-8 CSV
    except UnicodeDecodeError as exc:
        raise _unreadable("CSV (UTF-8)", exc) from None
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    return [{k: v for k, v in row.items() if k is not None} for row in reader]


def read_xlsx(data: bytes) -> list[dict[str, object]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise _unreadable("XLSX", exc) from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return []
        names = [str(h).strip() if h is not None else "" for h in header]
        return [{n: v for n, v in zip(names, values) if n} for values in rows]
    finally:
        book.close()


def read_upload(filename: str | None, content_type: str | None, data: bytes) -> list[dict[str, object]]:
    """CSV or XLSX, by content (an XLSX is a zip), else by name or declared type."""
    name = (filename or "").lower()
    if data.startswith(XLSX_MAGIC) or name.endswith(".xlsx") or "spreadsheetml" in (content_type or ""):
        return read_xlsx(data)
    if name.endswith((".csv", ".txt")) or (content_type or "").startswith("text/") or not name:
        return read_csv(data)
    raise Invalid(f"upload a .csv or .xlsx file (got {filename})",
                  f"Hãy tải lên tệp .csv hoặc .xlsx (tệp đã gửi: {filename})", code="unsupported-file")
