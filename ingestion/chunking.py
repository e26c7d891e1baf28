"""Structure-aware chunking, budgeted in the embedding model's tokens.

The document's text is its pages joined by a blank line; every chunk records its exact character
span in that text, its page, and the path of headings it sits under ("3 Leave > 3.2 Annual leave").

Rules, in order of precedence:
- a chunk never crosses a page break (a citation shows one page) nor a section boundary (a chunk is
  about one thing, and its section path is true for all of it); a heading with no text of its own
  before the next heading stays with that next section instead of becoming a chunk by itself;
- inside a section, whole sentences are packed up to `max_tokens`, and each chunk after the first
  repeats trailing sentences of the previous one up to `overlap_tokens`;
- a sentence longer than the budget is cut into pieces that fit; no text is ever dropped;
- a table (`ParsedDocument.tables`) is cut apart from the prose around it into table chunks of
  whole rows, each with the header row on top, as Markdown; its caption (or the heading it sits
  under) is their section and the source rows their location.

A chunk of an OCRed page is marked so, and carries the boxes of the OCR lines it covers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ingestion.parsers.base import Heading, Table, TextBox, markdown_table

PAGE_SEPARATOR = "\n\n"
SECTION_SEPARATOR = " > "

# A sentence ends after Chinese 。！？； (no space follows in Chinese), after English .!?;
# followed by whitespace, or at a blank line (headings, list items, table rows).
_SENTENCE_END = re.compile(r"[。！？；!?]+[”’」』）)]*|[.!?;]+[\"'”’)\]]*(?=\s)|\n\s*\n")

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class ChunkSpec:
    text: str
    section: str
    page: int  # 1-based page of the first character
    page_end: int
    char_start: int
    char_end: int
    kind: str = "text"  # or "table"
    rows: str = ""  # a table chunk's source rows, "12–40"
    ocr: bool = False
    page_label: str = ""
    boxes: tuple[tuple[float, float, float, float], ...] = ()  # OCR lines it covers, percent


@dataclass(frozen=True)
class Section:
    page: int
    start: int  # offsets in the page's text
    end: int
    path: str


def join_pages(pages: Sequence[str]) -> tuple[str, list[int]]:
    """Full text and the offset at which each page starts in it."""
    starts, offset = [], 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(pages), starts


def sections(pages: Sequence[str], headings: Sequence[Heading]) -> list[Section]:
    """Cut each page at its headings; each piece carries the heading path in force over it."""
    by_page: dict[int, list[Heading]] = {}
    for heading in sorted(headings, key=lambda h: (h.page, h.offset)):
        by_page.setdefault(heading.page, []).append(heading)
    stack: list[Heading] = []
    out: list[Section] = []

    def path() -> str:
        return SECTION_SEPARATOR.join(h.title for h in stack)

    for number, page in enumerate(pages, start=1):
        start, opened_by = 0, None
        for heading in by_page.get(number, []):
            offset = min(max(heading.offset, start), len(page))
            body = page[start:offset].strip()
            # A heading directly followed by a sub-heading has no body: keep it with that section.
            if body and not (opened_by and len(body) <= len(opened_by.title) + 8):
                out.append(Section(number, start, offset, path()))
                start = offset
            while stack and stack[-1].level >= heading.level:
                stack.pop()
            stack.append(heading)
            opened_by = heading
        if page[start:].strip():
            out.append(Section(number, start, len(page), path()))
    return out


def sentence_spans(
    text: str, max_chars: int | None = None, *, start: int = 0, end: int | None = None
) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence of text[start:end], whitespace trimmed; with `max_chars`, a
    longer sentence is cut into pieces at spaces (llm.citations splits answers this way)."""
    end = len(text) if end is None else end
    position = start
    bounds = [m.end() for m in _SENTENCE_END.finditer(text, start, end)] + [end]
    for bound in bounds:
        span = _trim(text, position, bound)
        position = bound
        if span is None:
            continue
        a, b = span
        while max_chars and b - a > max_chars:
            cut = text.rfind(" ", a + max_chars // 2, a + max_chars)
            cut = cut if cut > a else a + max_chars
            piece = _trim(text, a, cut)
            if piece:
                yield piece
            a = cut
            while a < b and text[a].isspace():
                a += 1
        if b > a:
            yield a, b


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def split_to_budget(
    text: str, start: int, end: int, max_tokens: int, count_tokens: TokenCounter
) -> Iterator[tuple[int, int, int]]:
    """(start, end, tokens) pieces of an overlong sentence, each within `max_tokens`, cut at a space
    where one is near (English) or between characters (Chinese). Covers every character."""
    tokens = count_tokens(text[start:end])
    while tokens > max_tokens:
        lo, hi = start + 1, end  # largest cut whose prefix fits: binary search on characters
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count_tokens(text[start:mid]) <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        cut = lo
        space = text.rfind(" ", start + (cut - start) // 2, cut)
        if space > start:
            cut = space
        piece = _trim(text, start, cut)
        if piece:
            yield piece[0], piece[1], count_tokens(text[piece[0] : piece[1]])
        start = cut
        while start < end and text[start].isspace():
            start += 1
        tokens = count_tokens(text[start:end])
    if end > start:
        yield start, end, tokens


def chunk_document(
    pages: Sequence[str],
    headings: Sequence[Heading],
    *,
    max_tokens: int,
    overlap_tokens: int,
    count_tokens: TokenCounter,
    tables: Sequence[Table] = (),
    ocr_pages: Sequence[int] = (),
    boxes: Sequence[TextBox] = (),
    page_labels: Sequence[str] = (),
) -> list[ChunkSpec]:
    text, page_starts = join_pages(pages)
    tables_by_page: dict[int, list[Table]] = {}
    for table in sorted(tables, key=lambda t: (t.page, t.start)):
        if _holds(pages, table):
            tables_by_page.setdefault(table.page, []).append(table)
    chunks: list[ChunkSpec] = []
    for section in sections(pages, headings):
        page = pages[section.page - 1]
        base = page_starts[section.page - 1]
        page_tables = tables_by_page.get(section.page, [])
        for a, b, table in _split_at_tables(section, page_tables):
            if table is not None:
                spans = _table_chunks(table, max_tokens, count_tokens)
                kind = "table"
                label = _table_section(section.path, table.caption)
            else:
                pieces = [
                    piece
                    for x, y in sentence_spans(page, start=a, end=b)
                    for piece in split_to_budget(page, x, y, max_tokens, count_tokens)
                ]
                spans = [(x, y, "") for x, y in _pack(pieces, max_tokens, overlap_tokens)]
                kind, label = "text", section.path
            for x, y, rows in spans:
                chunks.append(
                    ChunkSpec(
                        text=_table_text(table, page, x, y) if table else text[base + x : base + y],
                        section=label,
                        page=section.page,
                        page_end=section.page,
                        char_start=base + x,
                        char_end=base + y,
                        kind=kind,
                        rows=rows,
                        ocr=section.page in ocr_pages,
                        page_label=page_labels[section.page - 1] if page_labels else "",
                        boxes=_boxes(boxes, section.page, x, y),
                    )
                )
    return chunks


def _table_section(path: str, caption: str) -> str:
    """The heading path, then the caption's parts it does not already hold (a sheet's caption
    repeats the sheet's heading)."""
    parts = [p for text in (path, caption) for p in text.split(SECTION_SEPARATOR) if p.strip()]
    return SECTION_SEPARATOR.join(dict.fromkeys(parts))


def _holds(pages: Sequence[str], table: Table) -> bool:
    """The page really holds the table's Markdown where the table says (else it is chunked as the
    prose it is: a parser's slip must not lose or garble text)."""
    if not table.rows or not 1 <= table.page <= len(pages):
        return False
    text = pages[table.page - 1][table.start : table.end]
    return text == markdown_table(table.header, table.rows)


def _split_at_tables(
    section: Section, tables: Sequence[Table]
) -> Iterator[tuple[int, int, Table | None]]:
    """The section's span as prose pieces and the tables that start in it, in page order."""
    position = section.start
    for table in tables:
        if not section.start <= table.start < section.end or table.start < position:
            continue
        if table.start > position:
            yield position, table.start, None
        yield table.start, table.end, table
        position = table.end
    if position < section.end:
        yield position, section.end, None


def _row_spans(table: Table) -> list[tuple[int, int]]:
    """Page offsets of each body row's line."""
    spans, offset = [], table.start
    for number, line in enumerate(markdown_table(table.header, table.rows).split("\n")):
        if number >= 2:
            spans.append((offset, offset + len(line)))
        offset += len(line) + 1
    return spans


def _table_chunks(
    table: Table, max_tokens: int, count_tokens: TokenCounter
) -> list[tuple[int, int, str]]:
    """(start, end, rows) of each chunk: whole rows packed within the budget left by the header,
    a row over the budget alone in its chunk (the embedder reads its start; nothing is lost)."""
    spans = _row_spans(table)
    if not spans:
        return [(table.start, table.end, "")]
    budget = max(1, max_tokens - count_tokens(markdown_table(table.header, [])))
    costs = [count_tokens(markdown_table([], [row]).split("\n", 2)[-1]) for row in table.rows]
    out, i = [], 0
    while i < len(spans):
        j, used = i, costs[i]
        while j + 1 < len(spans) and used + costs[j + 1] <= budget:
            j += 1
            used += costs[j]
        first, last = table.first_row + i, table.first_row + j
        out.append((spans[i][0], spans[j][1], str(first) if i == j else f"{first}–{last}"))
        i = j + 1
    return out


def _table_text(table: Table, page: str, start: int, end: int) -> str:
    """A table chunk's text: the header lines, then its rows as they stand in the page."""
    header = "\n".join(markdown_table(table.header, table.rows).split("\n")[:2])
    return f"{header}\n{page[start:end]}"


def _boxes(
    boxes: Sequence[TextBox], page: int, start: int, end: int
) -> tuple[tuple[float, float, float, float], ...]:
    return tuple(
        (b.left, b.top, b.width, b.height)
        for b in boxes
        if b.page == page and b.start < end and b.end > start
    )


def _pack(
    sentences: list[tuple[int, int, int]], max_tokens: int, overlap_tokens: int
) -> Iterator[tuple[int, int]]:
    i = 0
    while i < len(sentences):
        j, used = i, sentences[i][2]
        while j + 1 < len(sentences) and used + sentences[j + 1][2] <= max_tokens:
            j += 1
            used += sentences[j][2]
        yield sentences[i][0], sentences[j][1]
        if j + 1 >= len(sentences):
            return
        # Step back over trailing sentences that fit in the overlap, but always move forward.
        next_i, overlap = j + 1, 0
        while next_i - 1 > i and overlap + sentences[next_i - 1][2] <= overlap_tokens:
            next_i -= 1
            overlap += sentences[next_i][2]
        i = next_i
