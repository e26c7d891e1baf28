"""A page as the reader sees it: a PDF page rendered to PNG (pdfium), or an image document's page
(a TIFF frame, upright by its EXIF orientation, scaled down), with the boxes of a cited passage so
the viewer can mark it on the image. An OCR passage carries its own boxes (its lines', from
ingestion); a text PDF's passage is located in the page's text layer.

The original is read from the storage (STORAGES["default"]), wherever it was uploaded: a store
without local paths (S3) is copied once per machine to `DATA_DIR/originals/`. Rendered pages are
cached under `DATA_DIR/pages/<document id>-<sha256 prefix>/`. Both caches belong to this machine
alone (another web machine renders its own from the storage) and are keyed by the file's hash,
so a re-uploaded or replaced file never shows a stale picture. Written atomically (temporary
file, then rename), so two web processes rendering the same page do not clash.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from django.conf import settings
from PIL import Image, ImageOps

from infra.storage import cached_file
from ingestion.models import Chunk, Document
from ingestion.parsers.base import IMAGE_SUFFIXES

RENDER_SCALE = 1.5  # 108 dpi: sharp on a laptop beside the chat, ~150 KB a page
IMAGE_MAX_SIDE = 1600  # an image page is scaled down to this many pixels on its longer side
_WORD = re.compile(r"\w", re.UNICODE)
_ANCHOR_CHARS = 60  # when the whole passage is not found verbatim, match its two ends
# pdfium is not thread-safe: one call into it at a time in this process.
_pdfium_lock = threading.Lock()


@dataclass
class Box:
    """A highlight rectangle in percent of the page's width and height, from the top left."""

    left: float
    top: float
    width: float
    height: float


def is_pdf(document: Document) -> bool:
    return document.file.name.lower().endswith(".pdf")


def is_image(document: Document) -> bool:
    return Path(document.file.name).suffix.lower() in IMAGE_SUFFIXES


def has_page_images(document: Document) -> bool:
    return is_pdf(document) or is_image(document)


def _cache_path(document: Document, page: int) -> Path:
    folder = f"{document.pk}-{document.sha256[:16]}"
    return Path(settings.DATA_DIR) / "pages" / folder / f"{page}.png"


def _original(document: Document) -> Path:
    """A local path of the document's current file (the store's own, or this machine's copy)."""
    file = document.file
    key = f"{document.pk}-{document.sha256}{Path(file.name).suffix}"
    return cached_file(file.storage, file.name, Path(settings.DATA_DIR) / "originals" / key)


def page_png(document: Document, page: int) -> Path:
    """Path of the PNG of 1-based `page`; ValueError if the document has no such page."""
    path = _cache_path(document, page)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    image = _image_page(document, page) if is_image(document) else _pdf_page(document, page)
    handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(handle)
    image.save(tmp, format="PNG", optimize=True)
    Path(tmp).replace(path)
    return path


def _pdf_page(document: Document, page: int) -> Image.Image:
    original = _original(document)  # a download, perhaps: not under the lock
    with _pdfium_lock:
        pdf = pdfium.PdfDocument(original)
        try:
            if not 1 <= page <= len(pdf):
                raise ValueError(f"The document has no page {page}.")
            return pdf[page - 1].render(scale=RENDER_SCALE).to_pil()
        finally:
            pdf.close()


def _image_page(document: Document, page: int) -> Image.Image:
    """The frame as ingestion read it (upright by EXIF), scaled: the OCR boxes are in percent of
    it, so they fit at any scale. Ingestion has refused any image too large to open here."""
    with Image.open(_original(document)) as image:
        if not 1 <= page <= (image.n_frames if image.format == "TIFF" else 1):
            raise ValueError(f"The document has no page {page}.")
        image.seek(page - 1)
        frame = ImageOps.exif_transpose(image).convert("RGB")
    frame.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
    return frame


def chunk_boxes(chunk: Chunk) -> list[Box]:
    """Where a cited chunk lies on its page's image: its OCR lines' boxes, else (a text PDF)
    the passage located in the page's text layer, else nowhere."""
    if chunk.boxes:
        return [Box(*box) for box in chunk.boxes]
    if is_pdf(chunk.document):
        return passage_boxes(chunk.document, chunk.page, chunk.text)
    return []


def _normalized(text: str) -> tuple[str, list[int]]:
    """Word characters only, case-folded, with each one's index in `text`: PDF text layers and the
    ingestion's extracted text differ in spaces, hyphens and line breaks, not in letters."""
    chars: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        if _WORD.match(char):
            chars.append(char.casefold())
            positions.append(index)
    return "".join(chars), positions


def _find_span(page_text: str, passage: str) -> tuple[int, int] | None:
    haystack, positions = _normalized(page_text)
    needle, _ = _normalized(passage)
    if not needle or not haystack:
        return None
    start = haystack.find(needle)
    if start >= 0:
        return positions[start], positions[start + len(needle) - 1]
    head, tail = needle[:_ANCHOR_CHARS], needle[-_ANCHOR_CHARS:]
    first = haystack.find(head)
    last = haystack.find(tail, max(first, 0))
    if first < 0 or last < 0:
        return None
    return positions[first], positions[last + len(tail) - 1]


def passage_boxes(document: Document, page: int, passage: str) -> list[Box]:
    """Rectangles covering `passage` on 1-based `page`, or none when it cannot be located (a page
    without a text layer, or text the PDF lays out differently)."""
    original = _original(document)  # a download, perhaps: not under the lock
    with _pdfium_lock:
        pdf = pdfium.PdfDocument(original)
        try:
            if not 1 <= page <= len(pdf):
                return []
            pdf_page = pdf[page - 1]
            width, height = pdf_page.get_size()
            textpage = pdf_page.get_textpage()
            span = _find_span(textpage.get_text_range(), passage)
            if span is None:
                return []
            start, end = span
            rects = [
                textpage.get_rect(i) for i in range(textpage.count_rects(start, end - start + 1))
            ]
        finally:
            pdf.close()
    return [
        Box(
            left=round(100 * left / width, 2),
            top=round(100 * (height - top) / height, 2),
            width=round(100 * (right - left) / width, 2),
            height=round(100 * (top - bottom) / height, 2),
        )
        for left, bottom, right, top in rects
    ]
