"""Split extracted text into overlapping chunks that end at sentence boundaries.

Chunks are cut from the document's full text (pages joined by a blank line), so each one records an
exact character span in that text and its page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

PAGE_SEPARATOR = "\n\n"

# A sentence ends after Chinese 。！？ (no space follows in Chinese), after English .!? followed by
# whitespace, or at a blank line (headings, list items, table rows).
_SENTENCE_END = re.compile(r"[。！？!?；]+[”’」』）)]*|[.!?]+[\"'”’)\]]*(?=\s)|\n\s*\n")


@dataclass(frozen=True)
class ChunkSpec:
    text: str
    page: int  # 1-based page of the first character
    page_end: int
    char_start: int
    char_end: int


def join_pages(pages: list[str]) -> tuple[str, list[int]]:
    """Full text and the offset at which each page starts in it."""
    starts, offset = [], 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(pages), starts


def sentence_spans(text: str, max_chars: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed; a sentence longer than `max_chars` is cut
    into pieces so no text is ever dropped."""
    start = 0
    for match in _SENTENCE_END.finditer(text):
        yield from _trimmed_pieces(text, start, match.end(), max_chars)
        start = match.end()
    yield from _trimmed_pieces(text, start, len(text), max_chars)


def _trimmed_pieces(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while end - start > max_chars:
        cut = text.rfind(" ", start + max_chars // 2, start + max_chars)
        cut = cut if cut > start else start + max_chars
        yield start, cut
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        yield start, end


def chunk_pages(pages: list[str], *, max_chars: int, overlap_chars: int) -> list[ChunkSpec]:
    """Greedily pack whole sentences up to `max_chars`; each chunk after the first repeats the
    trailing sentences of the previous one, up to `overlap_chars`, so an answer that straddles a
    boundary is still found whole in one chunk.

    Chunks never cross a page break: the page is what a citation shows, so a passage must belong to
    exactly one page.
    """
    text, page_starts = join_pages(pages)
    chunks: list[ChunkSpec] = []
    for page_number, (page, start) in enumerate(zip(pages, page_starts, strict=True), start=1):
        for a, b in _pack(list(sentence_spans(page, max_chars)), max_chars, overlap_chars):
            chunks.append(
                ChunkSpec(
                    text=text[start + a : start + b],
                    page=page_number,
                    page_end=page_number,
                    char_start=start + a,
                    char_end=start + b,
                )
            )
    return chunks


def _pack(
    sentences: list[tuple[int, int]], max_chars: int, overlap_chars: int
) -> Iterator[tuple[int, int]]:
    i = 0
    while i < len(sentences):
        j = i
        while j + 1 < len(sentences) and sentences[j + 1][1] - sentences[i][0] <= max_chars:
            j += 1
        end = sentences[j][1]
        yield sentences[i][0], end
        if j + 1 >= len(sentences):
            return
        # Step back over trailing sentences that fit in the overlap, but always move forward.
        next_i = j + 1
        while next_i - 1 > i and end - sentences[next_i - 1][0] <= overlap_chars:
            next_i -= 1
        i = next_i
