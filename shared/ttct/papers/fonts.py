"""The papers' typeface, embedded (subset) in every PDF so Vietnamese prints the same on every machine.

Vietnamese needs glyphs the PDF base fonts lack (ơ, ư, ạ, ễ ...). The default is Spectral, a serif with full
Vietnamese coverage in four static styles, from the pinned PyPI package `fontpkg-spectral`: no system font is
needed. `PAPER_FONT_FILE` names another family's regular TTF; its bold and italic styles are looked for beside it
(`-Regular` replaced by `-Bold`, `-Italic`, `-BoldItalic`), the regular standing in for any that is missing.
Debian's DejaVu Sans is the last resort.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FAMILY = "TTCT-Paper"
STYLES = {"regular": "Regular", "bold": "Bold", "italic": "Italic", "bold_italic": "BoldItalic"}
_SYSTEM = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@dataclass(frozen=True)
class Family:
    regular: str
    bold: str
    italic: str
    bold_italic: str
    files: tuple[str, ...]
    """the TTF files used, regular first (for the log and the tests)"""


def _packaged() -> Path | None:
    try:
        import fontpkg_spectral  # optional at import time: a clear error below instead
    except ImportError:
        return None
    found = Path(fontpkg_spectral.__file__).parent / "files" / "Spectral-Regular.ttf"
    return found if found.is_file() else None


def _sibling(regular: Path, style: str) -> Path:
    if "Regular" in regular.name:
        candidate = regular.with_name(regular.name.replace("Regular", style))
        if candidate.is_file():
            return candidate
    return regular


@functools.cache
def register(path: str | None = None) -> Family:
    """Register the family once per process (reportlab's registry is global) and answer its font names."""
    candidates = [Path(path)] if path else [p for p in (_packaged(), _SYSTEM) if p is not None]
    regular = next((c for c in candidates if c.is_file()), None)
    if regular is None:
        raise RuntimeError(f"no font with Vietnamese glyphs found (tried {', '.join(map(str, candidates))}); "
                           "install fontpkg-spectral or set PAPER_FONT_FILE")
    suffix = f"-{abs(hash(str(regular))) % 10**8}" if path else ""
    names, files = {}, []
    for key, style in STYLES.items():
        file = _sibling(regular, style) if style != "Regular" else regular
        names[key] = f"{FAMILY}{suffix}-{style}"
        pdfmetrics.registerFont(TTFont(names[key], str(file)))
        files.append(str(file))
    for bold, italic, key in ((0, 0, "regular"), (1, 0, "bold"), (0, 1, "italic"), (1, 1, "bold_italic")):
        addMapping(names["regular"], bold, italic, names[key])  # <b> and <i> inside a paragraph
    return Family(**names, files=tuple(dict.fromkeys(files)))
