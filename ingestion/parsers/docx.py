"""Word documents (python-docx): paragraphs, headings by style, list items, and tables as Tables
(Markdown in the text, cut into chunks of whole rows under their header)."""

from __future__ import annotations

import re
from pathlib import Path

from ingestion.parsers.base import ParsedDocument, ParseError
from ingestion.parsers.builder import DocumentBuilder

_HEADING_STYLE = re.compile(r"^(?:Heading|标题)\s*(\d)$", re.IGNORECASE)
# "Table 3: Leave by grade", "Table 3. ...", "表 3 各级假期" (Word's caption style or typed by hand)
_CAPTION = re.compile(r"^(?:Table|Tab\.|表)\s*[\d一二三四五六七八九十]+\b", re.IGNORECASE)


def parse_docx(path: Path) -> ParsedDocument:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many kinds on a broken package
        raise ParseError(
            f"The file is not a readable Word document ({exc}).", "unreadable_docx", detail=str(exc)
        ) from exc
    builder = DocumentBuilder()
    # A table's chunks are filed under the heading path they stand in; a caption paragraph just
    # before the table ("Table 3: Leave by grade") is added to that path.
    open_headings: list[tuple[int, str]] = []
    caption = ""
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            rows = _table_rows(item)
            if rows:
                named = [title for _, title in open_headings] + [caption] if caption else []
                builder.table(rows[0], rows[1:], caption=" > ".join(named))
            caption = ""
            continue
        text = item.text.strip()
        style = (item.style.name if item.style is not None else "") or ""
        match = _HEADING_STYLE.match(style)
        if (match or style == "Title") and text:
            level = int(match.group(1)) if match else 1
            builder.text(text, level)
            open_headings = [h for h in open_headings if h[0] < level]
            open_headings.append((level, " ".join(text.split())))
        elif _is_list_item(item, style):
            builder.text(f"- {text}" if text else "")
        else:
            builder.text(text)
        if text:
            is_caption = style == "Caption" or _CAPTION.match(text)
            caption = " ".join(text.split()) if is_caption else ""
    return builder.build()


def _is_list_item(paragraph, style: str) -> bool:
    if style.startswith("List"):
        return True
    properties = paragraph._p.pPr
    return properties is not None and properties.numPr is not None


def _table_rows(table) -> list[list[str]]:
    """Cell texts row by row, one per grid column: a cell merged across columns is reported for
    each column it spans, and keeps its text in the first only; a cell merged down the rows
    repeats in each, so every row reads whole on its own. Empty rows are left out."""
    rows = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            cells.append("" if cell._tc is previous else " ".join(cell.text.split()))
            previous = cell._tc
        if any(cells):
            rows.append(cells)
    return rows
