"""PowerPoint presentations (python-pptx): each slide a page headed by its title, its text boxes in
reading order (top to bottom, then left to right, groups opened), its tables as Tables, and the
speaker notes last under "Notes:" (they often hold what the slide only hints at)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ingestion.parsers.base import ParsedDocument, ParseError, unreadable_error
from ingestion.parsers.builder import DocumentBuilder

NOTES_LABEL = "Notes:"


def parse_pptx(path: Path) -> ParsedDocument:
    import pptx

    try:
        presentation = pptx.Presentation(str(path))
        slides = list(presentation.slides)
    except MemoryError:  # the sandbox reports running out of memory as such
        raise
    except Exception as exc:  # python-pptx raises many kinds on a broken package
        raise _unreadable(exc) from exc
    builder = DocumentBuilder()
    try:
        for number, slide in enumerate(slides, start=1):
            _add_slide(builder, slide, number)
    except MemoryError:
        raise
    except Exception as exc:
        raise _unreadable(exc) from exc
    return builder.build()


def _add_slide(builder: DocumentBuilder, slide, number: int) -> None:
    builder.page()
    title_shape = slide.shapes.title
    title = _frame_text(title_shape) if title_shape is not None else ""
    # Every slide opens a section, so an untitled slide is not filed under the previous title.
    builder.text(title or f"Slide {number}", 1)
    caption = " ".join(title.split()) or f"Slide {number}"
    for shape in _reading_order(slide.shapes):
        if title_shape is not None and shape.shape_id == title_shape.shape_id:
            continue
        if getattr(shape, "has_table", False) and shape.has_table:
            header, *rows = _table_rows(shape.table)
            builder.table(header, rows, caption=caption)
        elif shape.has_text_frame:
            builder.text(_frame_text(shape))
    if slide.has_notes_slide:
        frame = slide.notes_slide.notes_text_frame
        notes = frame.text.strip() if frame is not None else ""
        if notes:
            builder.text(f"{NOTES_LABEL}\n{notes}")


def _reading_order(shapes: Iterable) -> Iterator:
    """Shapes top to bottom, then left to right; a group's shapes in their own order, where the
    group stands."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in sorted(shapes, key=lambda s: (s.top or 0, s.left or 0)):
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _reading_order(shape.shapes)
        else:
            yield shape


def _frame_text(shape) -> str:
    lines = (" ".join(p.text.split()) for p in shape.text_frame.paragraphs)
    return "\n".join(line for line in lines if line)


def _table_rows(table) -> list[list[str]]:
    """A merged cell's text stands in its first cell; the cells it covers stay empty."""
    return [
        ["" if cell.is_spanned else " ".join(cell.text.split()) for cell in row.cells]
        for row in table.rows
    ]


def _unreadable(detail: object) -> ParseError:
    return unreadable_error("a readable PowerPoint presentation", "unreadable_pptx", detail)
