"""What the source viewer shows for a cited passage: the passage inside the text around it on its
page, rebuilt from the page's chunks (which overlap) by their character spans in the document."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

from ingestion.models import Chunk
from kbqa.chat.rendering import sanitize_markdown

CONTEXT_CHUNKS = 2  # chunks shown on each side of the cited one (same page only)


@dataclass
class PassageInContext:
    before: str
    passage: str
    after: str
    table_html: SafeString | str = ""  # a table passage, rendered as the table it is


def _stitch(chunks: list[Chunk], start: int, end: int) -> str:
    """The document text between offsets `start` and `end`, from overlapping chunks (a gap
    between two chunks, whitespace the chunker skipped, becomes one space)."""
    pieces: list[str] = []
    cursor = start
    for chunk in chunks:
        if chunk.char_end <= cursor or chunk.char_start >= end:
            continue
        if chunk.char_start > cursor:
            pieces.append(" ")
            cursor = chunk.char_start
        pieces.append(chunk.span_text[cursor - chunk.char_start : end - chunk.char_start])
        cursor = min(chunk.char_end, end)
    return "".join(pieces)


def passage_in_context(chunk: Chunk) -> PassageInContext:
    """`chunk` (already checked readable by the caller) with the text before and after it on the
    same page. Neighbours come from the same document, so nothing unreadable is shown."""
    neighbours = list(
        Chunk.objects.filter(
            document_id=chunk.document_id,
            page=chunk.page,
            ordinal__gte=chunk.ordinal - CONTEXT_CHUNKS,
            ordinal__lte=chunk.ordinal + CONTEXT_CHUNKS,
        ).order_by("char_start")
    )
    first = min((c.char_start for c in neighbours), default=chunk.char_start)
    last = max((c.char_end for c in neighbours), default=chunk.char_end)
    before = _stitch(neighbours, first, chunk.char_start)
    after = _stitch(neighbours, chunk.char_end, last)
    table_html = sanitize_markdown(chunk.text) if chunk.kind == Chunk.Kind.TABLE else ""
    return PassageInContext(
        before=before, passage=chunk.text, after=after, table_html=mark_safe(table_html)
    )
