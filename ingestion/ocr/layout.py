"""OCR lines to a page's text in reading order, each line keeping its box.

Engines return lines roughly top to bottom, which on a two-column page interleaves the columns
line by line, so sentences (and chunks) would mix both. The lines are put in order by a small
recursive XY cut: a vertical gap that no prose line (a long one) crosses splits columns, the
short lines (a figure's labels) going to the column they sit in, while a table's short cells stay
in rows; else a wide horizontal gap splits the region, and each part is ordered the same way.
Within a column, lines that share a row are read left to right. A wider gap between rows, or a
new column, starts a paragraph (a blank line), which the chunker treats as a sentence end.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median

from ingestion.ocr.engine import OcrLine
from ingestion.parsers.base import TextBox

COLUMN_LINE_WIDTH = 0.2  # of the page's width: a prose line, which a gutter must not cross
COLUMN_MIN_LINES = 3  # prose lines wholly on each side of a gutter
COLUMN_CROSSING = 0.1  # of the prose lines: at most this many may cross a gutter
PARAGRAPH_GAP = 0.7  # of the median line height: a wider gap between rows starts a paragraph
BLOCK_GAP = 1.2  # of the median line height: a wider gap may separate regions (a title, columns)


def page_text(
    lines: Sequence[OcrLine], width: float, height: float, page: int
) -> tuple[str, list[TextBox]]:
    """The page's text and a box (in percent of the page) for each line's span of it."""
    lines = [line for line in lines if line.text.strip()]
    if not lines:
        return "", []
    line_height = median(line.height for line in lines) or 1.0
    paragraph_gap = PARAGRAPH_GAP * line_height
    parts: list[str] = []
    boxes: list[TextBox] = []
    offset = 0
    for block in _blocks(lines, width, line_height):
        previous: list[OcrLine] | None = None
        for row in _rows(block):
            if parts:
                near = previous and row[0].top - max(x.bottom for x in previous) <= paragraph_gap
                separator = "\n" if near else "\n\n"
                parts.append(separator)
                offset += len(separator)
            for index, line in enumerate(row):
                if index:
                    parts.append(" ")
                    offset += 1
                text = " ".join(line.text.split())
                parts.append(text)
                boxes.append(_box(line, page, offset, offset + len(text), width, height))
                offset += len(text)
            previous = row
    return "".join(parts), boxes


def _box(line: OcrLine, page: int, start: int, end: int, width: float, height: float) -> TextBox:
    def percent(value: float, total: float) -> float:
        return round(100 * min(max(value, 0.0), total) / total, 2)

    left, top = percent(line.left, width), percent(line.top, height)
    return TextBox(
        page=page,
        start=start,
        end=end,
        left=left,
        top=top,
        width=round(percent(line.right, width) - left, 2),
        height=round(percent(line.bottom, height) - top, 2),
    )


def _blocks(lines: list[OcrLine], page_width: float, line_height: float) -> list[list[OcrLine]]:
    """Regions of the page in reading order (recursive XY cut, columns first)."""
    if len(lines) <= 1:
        return [lines]
    if (gutter := _gutter(lines, page_width)) is not None:
        return [
            block
            for region in _column_regions(lines, gutter)
            for block in _blocks(region, page_width, line_height)
        ]
    bands = _split(lines, lambda line: (line.top, line.bottom), BLOCK_GAP * line_height)
    if len(bands) > 1:
        return [block for band in bands for block in _blocks(band, page_width, line_height)]
    return [lines]


def _core(line: OcrLine) -> tuple[float, float]:
    """A line's horizontal extent without the padding detection adds (about half its height each
    side): across a narrow gutter the padded boxes of two columns touch, their cores do not."""
    return line.left + line.height / 2, line.right - line.height / 2


def _gutter(lines: list[OcrLine], page_width: float) -> float | None:
    """The x of a gutter between columns of prose (long lines): at least `COLUMN_MIN_LINES` prose
    lines wholly on each side, and at most a few crossing it (a running header, a title or a
    caption over both columns); the one fewest cross. None on a page of one column."""
    prose = [_core(line) for line in lines if line.width >= COLUMN_LINE_WIDTH * page_width]
    best: tuple[int, float] | None = None
    for x in sorted({right for _, right in prose}):
        left = sum(right <= x for _, right in prose)
        right = sum(start > x for start, _ in prose)
        crossing = len(prose) - left - right
        if min(left, right) >= COLUMN_MIN_LINES and crossing <= COLUMN_CROSSING * len(prose):
            if best is None or crossing < best[0]:
                best = (crossing, x)
    return None if best is None else best[1]


def _column_regions(lines: list[OcrLine], gutter: float) -> list[list[OcrLine]]:
    """The page cut at the gutter: the lines crossing it (full width) stand alone in top-to-bottom
    order, and between two of them the left column's lines come before the right column's."""
    spanning = sorted((x for x in lines if _core(x)[0] <= gutter < _core(x)[1]), key=_middle)
    regions: list[list[OcrLine]] = []
    rest = [line for line in lines if not _core(line)[0] <= gutter < _core(line)[1]]
    for bound in [*spanning, None]:
        above = [x for x in rest if bound is None or _middle(x) < _middle(bound)]
        rest = [x for x in rest if x not in above]
        regions += [
            side
            for side in (
                [x for x in above if (x.left + x.right) / 2 <= gutter],
                [x for x in above if (x.left + x.right) / 2 > gutter],
            )
            if side
        ]
        if bound is not None:
            regions.append([bound])
    return regions


def _middle(line: OcrLine) -> float:
    return (line.top + line.bottom) / 2


def _split(lines: list[OcrLine], extent, min_gap: float) -> list[list[OcrLine]]:
    """Groups of lines separated by gaps wider than `min_gap` along one axis, in axis order."""
    ordered = sorted(lines, key=lambda line: extent(line)[0])
    groups: list[list[OcrLine]] = []
    end = None
    for line in ordered:
        start, stop = extent(line)
        if end is None or start > end + min_gap:
            groups.append([line])
            end = stop
        else:
            groups[-1].append(line)
            end = max(end, stop)
    return groups


def _rows(lines: list[OcrLine]) -> list[list[OcrLine]]:
    """Lines grouped into visual rows (vertically overlapping by half the smaller line's height),
    top to bottom, each row left to right."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda line: (line.top + line.bottom) / 2):
        if rows:
            row = rows[-1]
            top, bottom = min(x.top for x in row), max(x.bottom for x in row)
            overlap = min(bottom, line.bottom) - max(top, line.top)
            if overlap > 0.5 * min(line.height, bottom - top):
                row.append(line)
                continue
        rows.append([line])
    return [sorted(row, key=lambda line: line.left) for row in rows]
