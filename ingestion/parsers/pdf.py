"""PDF text per page (pypdf), headings from the document outline, and OCR for the pages whose text
layer is missing (scans) or garbage (fonts without a ToUnicode map): only those pages are
rendered and read, text pages keep the fast path."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from ingestion.ocr import PageReader
from ingestion.parsers.base import Heading, ParsedDocument, ParseError, TextBox
from ingestion.parsers.garbled import is_garbled
from ingestion.parsers.pdf_tables import add_tables

logger = logging.getLogger(__name__)

ENCRYPTED = "The PDF is password-protected; upload an unencrypted copy."


def parse_pdf(path: Path, ocr: PageReader | None = None) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            # Owner-password-only PDFs open with an empty user password; others cannot be read.
            try:
                if not reader.decrypt(""):
                    raise ParseError(ENCRYPTED, "encrypted")
            except (FileNotDecryptedError, NotImplementedError) as exc:
                raise ParseError(ENCRYPTED, "encrypted") from exc
        pages = [(page.extract_text() or "") for page in reader.pages]
    except ParseError:
        raise
    except FileNotDecryptedError as exc:
        raise ParseError(ENCRYPTED, "encrypted") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        logger.info("PDF parse failed for %s: %r", path, exc)
        raise ParseError(
            f"The file is not a readable PDF ({exc}).", "unreadable_pdf", detail=str(exc)
        ) from exc
    if not pages:
        raise ParseError("The PDF has no pages.", "no_pages")
    blank = [number for number, text in enumerate(pages, start=1) if not text.strip()]
    garbled = [number for number, text in enumerate(pages, start=1) if is_garbled(text)]
    read, boxes, notes = _ocr(path, pages, blank, garbled, ocr or PageReader())
    empty = [number for number, text in enumerate(pages, start=1) if not text.strip()]
    if len(empty) == len(pages):
        raise ParseError(
            f"No text could be extracted: {pages_phrase(empty)} no usable text layer, and OCR "
            "found no text either.",
            "no_text_layer",
            pages=page_ranges(empty),
        )
    pages, tables = add_tables(path, pages, skip={*blank, *garbled})
    headings = _outline_headings(reader, pages) or numbered_headings(pages)
    return ParsedDocument(
        pages=pages, headings=headings, notes=notes, tables=tables, ocr_pages=read, boxes=boxes
    )


def _ocr(
    path: Path, pages: list[str], blank: list[int], garbled: list[int], ocr: PageReader
) -> tuple[list[int], list[TextBox], list[str]]:
    """OCR the blank and garbled pages, in place in `pages`: (pages OCR read text on, their
    line boxes, notes saying what was OCRed). A garbled page OCR cannot read ends empty: its
    mojibake is never kept."""
    from ingestion.parsers.pdf_ocr import ocr_pages

    numbers = sorted({*blank, *garbled})
    if not numbers:
        return [], [], []
    found = ocr_pages(path, numbers, ocr)
    read: list[int] = []
    boxes: list[TextBox] = []
    for number in numbers:
        text, page_boxes = found.get(number, ("", []))
        pages[number - 1] = text
        if text.strip():
            read.append(number)
            boxes.extend(page_boxes)
    notes = []
    if scanned := [number for number in blank if number in read]:
        notes.append(f"{pages_phrase(scanned)} no text layer (scanned?): read by OCR")
    if mended := [number for number in garbled if number in read]:
        notes.append(f"{pages_phrase(mended)} a garbled text layer: read by OCR instead")
    if unread := [number for number in numbers if number not in read]:
        notes.append(f"{pages_phrase(unread)} no text, not even by OCR")
    return read, boxes, notes


def page_ranges(numbers: list[int]) -> str:
    """ "3" / "1–4, 7": consecutive pages collapse into ranges."""
    ranges: list[list[int]] = []
    for n in numbers:
        if ranges and n == ranges[-1][1] + 1:
            ranges[-1][1] = n
        else:
            ranges.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in ranges)


def pages_phrase(numbers: list[int]) -> str:
    """ "page 3 has" / "pages 1–4, 7 have"."""
    text = page_ranges(numbers)
    return f"page {text} has" if len(numbers) == 1 else f"pages {text} have"


def _outline_headings(reader, pages: list[str]) -> list[Heading]:
    """Bookmarks become headings: each is placed where its title appears on its target page, or at
    the top of that page when the title is not found in the extracted text."""
    headings: list[Heading] = []

    def walk(items, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            title = " ".join(str(getattr(item, "title", "") or "").split())
            try:
                index = reader.get_destination_page_number(item)
            except Exception:  # a broken bookmark should not cost the document
                continue
            if not title or index is None or not 0 <= index < len(pages):
                continue
            headings.append(Heading(index + 1, _find(pages[index], title), level, title))

    try:
        walk(reader.outline, 1)
    except Exception as exc:
        logger.info("Ignoring an unreadable PDF outline: %r", exc)
        return []
    return sorted(headings, key=lambda h: (h.page, h.offset))


def _find(page: str, title: str) -> int:
    words = title.split()[:12]
    pattern = r"\s*".join(re.escape(word) for word in words)
    match = re.search(pattern, page, re.IGNORECASE)  # small caps extract as capitals
    return match.start() if match else 0


_TOC_LEADER = re.compile(r"(?:\.\s?){4,}|…{2,}")
_NUMBERED = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*)\.?[ \t]+(\S[^\n]{0,100})$", re.MULTILINE)


def numbered_headings(pages: list[str]) -> list[Heading]:
    """Without an outline, lines like "3.11. /media : Mount point" are headings when their numbers
    keep increasing through the document, from chapter 1 on; numbered list items restart at 1 and
    so are left out. Without the start at 1, a cover page's street address ("83 Tower Road North")
    or a table's "13 Weeks Ended" became the first heading, no later chapter number could pass
    it, and every chunk of the report carried it as its section."""
    headings: list[Heading] = []
    last: tuple[int, ...] = ()
    for page_number, page in enumerate(pages, start=1):
        for match in _NUMBERED.finditer(page):
            title = match.group(2).strip()
            if (
                title[-1] in ".,;:。，；："
                or not any(ch.isalpha() for ch in title)
                or _TOC_LEADER.search(title)  # a table-of-contents line, not the heading
            ):
                continue
            number = tuple(int(part) for part in match.group(1).split("."))
            if number <= last or (not last and number[0] > 1):
                continue
            if len(number) == 1 and last and number[0] != last[0] + 1:
                continue
            last = number
            headings.append(
                Heading(page_number, match.start(), len(number), f"{match.group(1)} {title}")
            )
    return headings
