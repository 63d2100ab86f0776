"""Reading the services' papers back, as a person (or another program) would: a PDF's text, its pages as PNG
images, a certificate's QR code, an XLSX's or a CSV's rows.

PNGs go to the test artifacts folder (`test-artifacts/papers/`, git-ignored; TTCT_TEST_ARTIFACTS names another), so
the papers can be looked at after a run. PDFium (pypdfium2) renders them and zxing-cpp decodes QR codes: both are
wheels from PyPI with no system library, unlike poppler's pdftoppm.
"""
from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

from ttct_dev.mailbox import pdf_text

ARTIFACTS = Path(os.environ.get("TTCT_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")

__all__ = ["ARTIFACTS", "csv_rows", "pdf_text", "qr_codes", "render_pages", "vietnamese_text", "xlsx_rows", "xlsx_sheets"]


def vietnamese_text(data: bytes) -> str:
    """The PDF's text (whitespace collapsed), checked to be NFC: a glyph drawn from a decomposed string, or a
    font that lost a diacritic, shows up here."""
    text = pdf_text(data)
    if not unicodedata.is_normalized("NFC", text):
        raise AssertionError(f"the PDF's text is not NFC: {text[:200]!r}")
    return text


def render_pages(data: bytes, name: str, scale: float = 1.5) -> list[Path]:
    """Each page as `<artifacts>/papers/<name>-<n>.png`."""
    import pypdfium2

    folder = ARTIFACTS / "papers"
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
    paths = []
    document = pypdfium2.PdfDocument(data)
    try:
        for n, page in enumerate(document, 1):
            path = folder / f"{stem}-{n}.png"
            page.render(scale=scale).to_pil().save(path)
            paths.append(path)
    finally:
        document.close()
    return paths


def qr_codes(png: Path) -> list[str]:
    """The text of every QR code on the image."""
    import zxingcpp
    from PIL import Image

    with Image.open(png) as image:
        return [found.text for found in zxingcpp.read_barcodes(image) if found.format == zxingcpp.BarcodeFormat.QRCode]


def xlsx_rows(data: bytes, sheet: str | None = None) -> list[dict[str, Any]]:
    """A worksheet's rows (the first, or the one named) as dicts keyed by its header row."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    try:
        rows = (book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True)
        header = next(rows)
        return [dict(zip(header, row, strict=True)) for row in rows]
    finally:
        book.close()


def xlsx_sheets(data: bytes) -> list[str]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return book.sheetnames
    finally:
        book.close()


def csv_rows(data: bytes) -> list[dict[str, str]]:
    if not data.startswith(b"\xef\xbb\xbf"):
        raise AssertionError("the CSV has no UTF-8 byte-order mark (Excel would garble the diacritics)")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
