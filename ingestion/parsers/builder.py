"""Assemble a ParsedDocument block by block, so each parser states what it found (a heading, a
paragraph, a table) and the offsets that the chunker relies on are counted in one place."""

from __future__ import annotations

from dataclasses import replace

from ingestion.parsers.base import Heading, ParsedDocument, Table, markdown_table

BLOCK_SEPARATOR = "\n\n"


class DocumentBuilder:
    """Pages of blocks joined by a blank line. A heading's offset is where its block starts; a
    table's block is exactly `markdown_table(header, rows)`, as `Table` promises."""

    def __init__(self) -> None:
        self.pages: list[str] = []
        self.labels: list[str] = []
        self.headings: list[Heading] = []
        self.tables: list[Table] = []
        self.notes: list[str] = []
        self._blocks: list[str] = []
        self._offset = 0
        self._open = False

    def page(self, label: str = "") -> None:
        """Start a new page (the first block also starts one, unlabelled)."""
        self._close()
        self._open = True
        self.labels.append(label)

    def text(self, text: str, level: int | None = None, *, title: str | None = None) -> int:
        """Add a block; with `level`, it is a heading (titled `title`, else its text). Returns the
        block's offset in the page, or -1 when the text is blank and nothing was added."""
        if not text.strip():
            return -1
        if not self._open:
            self.page()
        offset = self._offset
        if level is not None:
            self.headings.append(
                Heading(len(self.pages) + 1, offset, level, " ".join((title or text).split()))
            )
        self._blocks.append(text)
        self._offset += len(text) + len(BLOCK_SEPARATOR)
        return offset

    def table(
        self, header: list[str], rows: list[list[str]], *, caption: str = "", first_row: int = 2
    ) -> None:
        """A table with body rows becomes a Table; a header alone is just a line of text."""
        start = self.text(markdown_table(header, rows))
        if start >= 0 and rows:
            end = start + len(self._blocks[-1])
            page = len(self.pages) + 1
            self.tables.append(Table(page, start, end, header, rows, caption, first_row))

    def build(self) -> ParsedDocument:
        self._close()
        return ParsedDocument(
            pages=self.pages or [""],
            headings=self.headings,
            notes=self.notes,
            tables=self.tables,
            page_labels=self.labels if any(self.labels) else [],
        )

    def _close(self) -> None:
        if self._open:
            self.pages.append(BLOCK_SEPARATOR.join(self._blocks))
            self._blocks, self._offset, self._open = [], 0, False


def append_document(
    target: ParsedDocument, part: ParsedDocument, *, prefix: str, level: int, caption: str
) -> None:
    """Add `part`'s pages after `target`'s: its first page starts with `prefix` (a heading of
    `level`), its headings sit one level below that, and its tables' captions name `caption`
    first. Offsets, page numbers and labels are moved to where the pages now are."""
    shift_page = len(target.pages)
    head = prefix + BLOCK_SEPARATOR
    pages = part.pages or [""]

    def moved(page: int, offset: int) -> int:
        return offset + len(head) if page == 1 else offset

    labels_before = target.page_labels or [""] * len(target.pages)
    labels_part = part.page_labels or [""] * len(pages)
    target.headings.append(Heading(shift_page + 1, 0, level, prefix))
    target.headings.extend(
        replace(h, page=h.page + shift_page, offset=moved(h.page, h.offset), level=h.level + level)
        for h in part.headings
    )
    target.tables.extend(
        replace(
            t,
            page=t.page + shift_page,
            start=moved(t.page, t.start),
            end=moved(t.page, t.end),
            caption=" > ".join(c for c in (caption, t.caption) if c),
        )
        for t in part.tables
    )
    target.boxes.extend(
        replace(b, page=b.page + shift_page, start=moved(b.page, b.start), end=moved(b.page, b.end))
        for b in part.boxes
    )
    target.ocr_pages.extend(p + shift_page for p in part.ocr_pages)
    target.pages.extend([head + pages[0], *pages[1:]])
    labels = [*labels_before, *labels_part]
    target.page_labels = labels if any(labels) else []
