"""Ruled tables of text PDFs (pdfplumber), put in the page's text as Markdown.

pypdf extracts a table as a line soup: the cells of a row run together and a number loses the
column heading that says what it is. On a page where pdfplumber finds a table, the page's text is
rebuilt from top to bottom: the text above the table, the table as Markdown (`ParsedDocument.tables`
records where), the text below, so the chunker can cut it into rows under their header. Only ruled
tables count (pdfplumber's "lines" strategy): guessing tables from word alignment alone finds one in
every two-column page and every indented list. Pages without a table keep pypdf's text untouched.

pdfplumber (MIT) rather than PyMuPDF, whose AGPL licence does not suit customers.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ingestion.parsers.base import Table, markdown_table

logger = logging.getLogger(__name__)

BLOCK_SEPARATOR = "\n\n"
MIN_ROWS = 2  # header + one row
MIN_COLUMNS = 2
MAX_CAPTION = 150  # characters
MIN_FILLED = 0.25  # share of non-empty cells: a page frame or a form's boxes is not a table
_PREFIXES = {"$", "€", "£", "¥", "(", "($", "$("}
_SUFFIXES = {"%", ")", "%)", ")%"}


def add_tables(path: Path, pages: list[str], *, skip: set[int]) -> tuple[list[str], list[Table]]:
    """`pages` with each ruled table as Markdown, and the tables; pages in `skip` (1-based: no
    usable text layer) and pages pdfplumber cannot read are left as they are."""
    import pdfplumber

    pages = list(pages)
    tables: list[Table] = []
    try:
        pdf = pdfplumber.open(path)
    except Exception as exc:  # pypdf read it; a table finder's failure must not cost the document
        logger.info("pdfplumber cannot open %s: %r", path, exc)
        return pages, []
    with pdf:
        for index, page in enumerate(pdf.pages):
            number = index + 1
            if number in skip or index >= len(pages) or not pages[index].strip():
                continue
            try:
                if not (page.lines or page.rects):
                    continue  # no ruling, no ruled table: skip the costly search
                found = [(t, rows) for t in page.find_tables() if (rows := _rows(t))]
                if found:
                    pages[index], page_tables = _rebuild(page, found, number)
                    tables.extend(page_tables)
            except Exception as exc:
                logger.info("No tables from page %s of %s: %r", number, path, exc)
            finally:
                page.close()
    return pages, tables


def _rows(table) -> list[list[str]]:
    """The table's rows, cleaned; [] when it is too small or too empty to be a table."""
    rows = [[" ".join((cell or "").split()) for cell in row] for row in table.extract()]
    rows = [row for row in rows if any(row)]
    if not rows:
        return []
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    rows = _merge_symbol_columns(rows)
    keep = [c for c in range(len(rows[0])) if any(row[c] for row in rows)]
    rows = [[row[c] for c in keep] for row in rows]
    cells = [cell for row in rows for cell in row]
    if len(rows) < MIN_ROWS or len(keep) < MIN_COLUMNS:
        return []
    if sum(1 for cell in cells if cell) < MIN_FILLED * len(cells):
        return []
    return rows


def _merge_symbol_columns(rows: list[list[str]]) -> list[list[str]]:
    """Financial statements rule "$" and "%" into columns of their own: join them to the number
    they belong to, so "$ | 1,234" reads "$1,234" in one cell."""
    rows = [list(row) for row in rows]
    width = len(rows[0])
    for c in range(width):
        values = {row[c] for row in rows} - {""}
        if not values:
            continue
        if values <= _PREFIXES and c + 1 < width:
            for row in rows:
                row[c + 1], row[c] = row[c] + row[c + 1], ""
        elif values <= _SUFFIXES and c > 0:
            for row in rows:
                row[c - 1], row[c] = row[c - 1] + row[c], ""
    return rows


def _rebuild(page, found: list[tuple], number: int) -> tuple[str, list[Table]]:
    """The page's text from top to bottom, tables as Markdown in their place."""
    x0, top, x1, bottom = page.bbox
    parts: list[str] = []
    tables: list[Table] = []
    offset = 0
    cursor = top

    def add_text(text: str) -> None:
        nonlocal offset
        text = text.strip()
        if text:
            parts.append(text)
            offset += len(text) + len(BLOCK_SEPARATOR)

    for table, rows in sorted(found, key=lambda pair: pair[0].bbox[1]):
        _, t_top, _, t_bottom = table.bbox
        if t_top < cursor:  # overlaps the previous table: leave it in the text
            continue
        above = _text(page.crop((x0, cursor, x1, t_top), strict=False)) if t_top > cursor else ""
        add_text(above)
        markdown = markdown_table(rows[0], rows[1:])
        tables.append(
            Table(
                number,
                offset,
                offset + len(markdown),
                header=rows[0],
                rows=rows[1:],
                caption=_caption(above),
            )
        )
        parts.append(markdown)
        offset += len(markdown) + len(BLOCK_SEPARATOR)
        # Text beside the table (a margin note) follows it.
        beside = page.crop((x0, t_top, x1, t_bottom), strict=False).outside_bbox(
            table.bbox, strict=False
        )
        add_text(_text(beside))
        cursor = t_bottom
    if cursor < bottom:
        add_text(_text(page.crop((x0, cursor, x1, bottom), strict=False)))
    return BLOCK_SEPARATOR.join(parts), tables


def _caption(above: str) -> str:
    """The line right above a table, when it is short enough to be its title ("Consolidated
    Statements of Operations (in millions)", "The following table shows revenue by segment:"):
    a table's numbers are found by what they are, and its header row seldom says it."""
    lines = [line.strip() for line in above.splitlines() if line.strip()]
    return lines[-1] if lines and len(lines[-1]) <= MAX_CAPTION else ""


def _text(region) -> str:
    return region.extract_text() or ""
