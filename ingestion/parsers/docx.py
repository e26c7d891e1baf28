"""Word documents (python-docx): paragraphs, headings by style, list items, tables as text rows."""

from __future__ import annotations

import re
from pathlib import Path

from ingestion.parsers.base import Heading, ParsedDocument, ParseError

BLOCK_SEPARATOR = "\n\n"
_HEADING_STYLE = re.compile(r"^(?:Heading|标题)\s*(\d)$", re.IGNORECASE)


def parse_docx(path: Path) -> ParsedDocument:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many kinds on a broken package
        raise ParseError(
            f"The file is not a readable Word document ({exc}).", "unreadable_docx", detail=str(exc)
        ) from exc
    blocks: list[str] = []
    headings: list[Heading] = []
    offset = 0

    def add(text: str, level: int | None = None) -> None:
        nonlocal offset
        if not text.strip():
            return
        if level is not None:
            headings.append(Heading(1, offset, level, " ".join(text.split())))
        blocks.append(text)
        offset += len(text) + len(BLOCK_SEPARATOR)

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                add(" | ".join(_dedupe_merged(cells)))
            continue
        style = (item.style.name if item.style is not None else "") or ""
        match = _HEADING_STYLE.match(style)
        if match or style == "Title":
            add(item.text.strip(), int(match.group(1)) if match else 1)
        elif _is_list_item(item, style):
            add(f"- {item.text.strip()}")
        else:
            add(item.text.strip())
    return ParsedDocument(pages=[BLOCK_SEPARATOR.join(blocks)], headings=headings)


def _is_list_item(paragraph, style: str) -> bool:
    if style.startswith("List"):
        return True
    properties = paragraph._p.pPr
    return properties is not None and properties.numPr is not None


def _dedupe_merged(cells: list[str]) -> list[str]:
    """A merged cell is reported once per grid column it spans; keep it once."""
    out: list[str] = []
    for cell in cells:
        if not out or cell != out[-1]:
            out.append(cell)
    return out
