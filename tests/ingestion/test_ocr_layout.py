"""Reading order of OCR lines: columns before rows, full-width lines between, tables by rows."""

from __future__ import annotations

from ingestion.ocr.engine import OcrLine
from ingestion.ocr.layout import page_text

WIDTH, HEIGHT = 1275, 1650


def line(text: str, left: float, top: float, right: float, height: float = 24) -> OcrLine:
    return OcrLine(text, left, top, right, top + height, 0.99)


def test_two_columns_are_read_one_after_the_other_under_a_full_width_header():
    # Detection pads boxes: the columns' padded boxes overlap across the narrow gutter.
    lines = [line("Journal of Examples 12 (2024) 3-9", 300, 60, 980)]
    for n in range(4):
        lines.append(line(f"left column line {n}.", 90, 140 + 30 * n, 645))
        lines.append(line(f"right column line {n}.", 630, 140 + 30 * n, 1190))
    lines.append(line("0.8", 900, 270, 930))  # a figure's label in the right column
    text, boxes = page_text(lines, WIDTH, HEIGHT, 3)
    order = [chunk for chunk in text.split("\n") if chunk]
    assert order == [
        "Journal of Examples 12 (2024) 3-9",
        *(f"left column line {n}." for n in range(4)),
        *(f"right column line {n}." for n in range(4)),
        "0.8",
    ]
    for box in boxes:  # every box covers exactly its line's text
        assert text[box.start : box.end] in {x.text for x in lines}
        assert box.page == 3
    header = boxes[0]
    assert (header.left, header.top) == (round(100 * 300 / WIDTH, 2), round(100 * 60 / HEIGHT, 2))


def test_a_table_of_short_cells_is_read_row_by_row():
    lines = []
    for row in range(4):
        for column, x in enumerate((100, 400, 700)):
            lines.append(line(f"r{row}c{column}", x, 200 + 40 * row, x + 80))
    text, _ = page_text(lines, WIDTH, HEIGHT, 1)
    assert text.split("\n")[:2] == ["r0c0 r0c1 r0c2", "r1c0 r1c1 r1c2"]


def test_a_wide_gap_starts_a_paragraph():
    lines = [
        line("First paragraph, first line", 100, 100, 900),
        line("first paragraph, second line.", 100, 128, 900),
        line("Second paragraph.", 100, 200, 900),
    ]
    text, _ = page_text(lines, WIDTH, HEIGHT, 1)
    assert text == (
        "First paragraph, first line\nfirst paragraph, second line.\n\nSecond paragraph."
    )
