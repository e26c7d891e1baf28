"""PDF pages without a usable text layer, rendered (pdfium) and read by OCR.

150 dpi reads body text as well as 200 dpi does with the bundled PP-OCR models at about half the
cost (docs/ocr.md has the measurement). A page's render is capped in pixels, so a PDF declaring
an enormous page size cannot make the renderer allocate gigabytes; the OCR engine scales larger
images down anyway.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ingestion.ocr import PageReader
from ingestion.parsers.base import TextBox

logger = logging.getLogger(__name__)

OCR_DPI = 150
MAX_RENDER_SIDE = 4000  # pixels


def ocr_pages(
    path: Path, numbers: list[int], reader: PageReader
) -> dict[int, tuple[str, list[TextBox]]]:
    """The OCR text and line boxes of each 1-based page in `numbers`; a page that cannot be
    rendered reads as empty (and is said so in the log), its neighbours are still read."""
    import pypdfium2 as pdfium

    reader.plan(len(numbers))
    read: dict[int, tuple[str, list[TextBox]]] = {}
    pdf = pdfium.PdfDocument(str(path))
    try:
        for number in numbers:
            try:
                image = render(pdf[number - 1])
            except pdfium.PdfiumError as exc:
                logger.info("Page %s of %s could not be rendered for OCR: %s", number, path, exc)
                read[number] = ("", [])
                reader.skip()
                continue
            read[number] = reader.read(image, number)
    finally:
        pdf.close()
    return read


def render(page, dpi: int = OCR_DPI):
    """The page as an RGB image at `dpi`, or smaller where that would exceed the pixel cap."""
    width, height = page.get_size()  # points, 1/72 inch
    scale = min(dpi / 72, MAX_RENDER_SIDE / max(width, height, 1.0))
    try:
        return page.render(scale=scale).to_pil().convert("RGB")
    finally:
        page.close()
