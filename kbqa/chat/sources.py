"""What the source viewer shows for a cited passage: the passage inside the text around it on its
page, rebuilt from the page's chunks (which overlap) by their character spans in the document,
with the sentences an answer used marked in it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.safestring import SafeString, mark_safe

from ingestion.models import Chunk
from kbqa.chat.rendering import sanitize_markdown

CONTEXT_CHUNKS = 2  # chunks shown on each side of the cited one (same page only)
MAX_SPANS = 50
_SPAN = re.compile(r"(\d{1,7})-(\d{1,7})")


@dataclass
class PassageInContext:
    before: str
    passage: str
    after: str
    table_html: SafeString | str = ""  # a table passage, rendered as the table it is
    parts: list[tuple[str, bool]] = field(default_factory=list)  # the passage: (text, used)


def parse_spans(value: str) -> list[tuple[int, int]]:
    """`12-80,95-140` as [(12, 80), (95, 140)]; anything malformed is ignored (it only marks)."""
    spans = []
    for item in value.split(",")[:MAX_SPANS]:
        match = _SPAN.fullmatch(item.strip())
        if match and int(match.group(1)) < int(match.group(2)):
            spans.append((int(match.group(1)), int(match.group(2))))
    return spans


def passage_parts(text: str, used: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """`text` cut into (piece, used) at the `used` spans (clipped to the text, overlaps merged)."""
    parts: list[tuple[str, bool]] = []
    cursor = 0
    for start, end in sorted(used):
        start, end = max(start, cursor), min(end, len(text))
        if start >= end:
            continue
        if start > cursor:
            parts.append((text[cursor:start], False))
        parts.append((text[start:end], True))
        cursor = end
    if cursor < len(text) or not parts:
        parts.append((text[cursor:], False))
    return parts


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


def passage_in_context(chunk: Chunk, used: list[tuple[int, int]] | None = None) -> PassageInContext:
    """`chunk` (already checked readable by the caller) with the text before and after it on the
    same page, and `used` (spans in its text) marked. Neighbours come from the same document, so
    nothing unreadable is shown."""
    neighbours = list(
        Chunk.objects.filter(
            version_id=chunk.version_id,
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
        before=before,
        passage=chunk.text,
        after=after,
        table_html=mark_safe(table_html),
        parts=passage_parts(chunk.text, used or []),
    )
