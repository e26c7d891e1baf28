"""OCR lines to a page's text in reading order, each line keeping its box.

Engines return lines roughly top to bottom, which on a two-column page interleaves the columns
line by line, so sentences (and chunks) would mix both. The lines are put in order by a small
recursive XY cut: a vertical gap that no line crosses splits columns (when the lines on both
sides are long enough to be prose: a table's short cells stay in rows); else a wide horizontal
gap splits the region, and each part is ordered the same way. Within a column, lines that share
a row are read left to right. A wider gap between rows, or a new column, starts a paragraph
(a blank line), which the chunker treats as a sentence end.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median

from ingestion.ocr.engine import OcrLine
from ingestion.parsers.base import TextBox

COLUMN_GAP = 0.015  # of the page's width: the least gap between columns
COLUMN_LINE_WIDTH = 0.15  # of the page's width: the median line of a column is at least this long
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
    columns = _split(lines, lambda line: (line.left, line.right), COLUMN_GAP * page_width)
    if len(columns) > 1 and all(_is_column(c, page_width) for c in columns):
        return [block for column in columns for block in _blocks(column, page_width, line_height)]
    bands = _split(lines, lambda line: (line.top, line.bottom), BLOCK_GAP * line_height)
    if len(bands) > 1:
        return [block for band in bands for block in _blocks(band, page_width, line_height)]
    return [lines]


def _is_column(lines: list[OcrLine], page_width: float) -> bool:
    return median(line.width for line in lines) >= COLUMN_LINE_WIDTH * page_width


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
