"""Turn an uploaded file into per-page text plus the headings that structure it.

Parsers import no Django: they run in a child process (see `sandbox`) so that a file built to hang
or exhaust a parser costs that child, never the worker. Every failure becomes a ParseError whose
message is shown to the admin as is, so it must say what is wrong with the file in words a person
can act on.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ingestion.parsers.base import (
    HTML_SUFFIXES,
    IMAGE_SUFFIXES,
    MARKDOWN_SUFFIXES,
    SPREADSHEET_SUFFIXES,
    SUPPORTED_SUFFIXES,
    Heading,
    ParsedDocument,
    ParseError,
    unsupported_error,
    unsupported_message,
)
from ingestion.parsers.cleaning import clean_text

if TYPE_CHECKING:
    from ingestion.ocr import PageReader

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Heading",
    "ParseError",
    "ParsedDocument",
    "parse_file",
    "unsupported_error",
    "unsupported_message",
]


def parse_file(
    path: Path, *, name: str | None = None, ocr: PageReader | None = None
) -> ParsedDocument:
    """Parse in this process, choosing the parser by extension after checking the content agrees.
    `ocr` reads the pages that hold no text but an image of it (default: the bundled engine,
    no progress reported). The text is cleaned one character for one (`cleaning`): NUL, and CJK
    radicals that look like ideographs."""
    return _cleaned(_parse(path, name=name, ocr=ocr))


def _cleaned(parsed: ParsedDocument) -> ParsedDocument:
    parsed.pages = [clean_text(page) for page in parsed.pages]
    parsed.headings = [replace(h, title=clean_text(h.title)) for h in parsed.headings]
    return parsed


def _parse(path: Path, *, name: str | None, ocr: PageReader | None) -> ParsedDocument:
    from ingestion.parsers.sniff import check_content

    suffix = Path(name or path.name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise unsupported_error(suffix)
    check_content(path, suffix)
    if suffix == ".pdf":
        from ingestion.parsers.pdf import parse_pdf

        return parse_pdf(path, ocr)
    if suffix == ".docx":
        from ingestion.parsers.docx import parse_docx

        return parse_docx(path)
    if suffix == ".pptx":
        from ingestion.parsers.pptx import parse_pptx

        return parse_pptx(path)
    if suffix in SPREADSHEET_SUFFIXES:
        from ingestion.parsers import spreadsheet

        if suffix == ".csv":
            return spreadsheet.parse_csv(path, name=name or path.name)
        return spreadsheet.parse_xlsx(path) if suffix == ".xlsx" else spreadsheet.parse_xls(path)
    if suffix == ".eml":
        from ingestion.parsers.eml import parse_eml

        return parse_eml(path, parse_file=partial(parse_file, ocr=ocr))
    if suffix in IMAGE_SUFFIXES:
        from ingestion.parsers.image import parse_image

        return parse_image(path, ocr)
    if suffix in HTML_SUFFIXES:
        from ingestion.parsers.html import parse_html

        return parse_html(path)
    from ingestion.parsers.text import parse_markdown, parse_text

    return parse_markdown(path) if suffix in MARKDOWN_SUFFIXES else parse_text(path)
