"""OCR of page images: an engine chosen in settings (`engine`), the page's text in reading order
with a box per line (`layout`), and `PageReader`, which one file's parse uses for all its pages.

Like the parsers, nothing here imports Django: it runs in the parsing sandbox's child process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PIL import Image

from ingestion.ocr.engine import DEFAULT_SPEC, OcrEngine, OcrLine, load_engine
from ingestion.ocr.layout import page_text
from ingestion.parsers.base import TextBox

__all__ = ["DEFAULT_SPEC", "OcrEngine", "OcrLine", "PageReader", "load_engine"]

Progress = Callable[[int, int], None]  # (pages OCRed, pages to OCR)


class PageReader:
    """OCR for one file's parse: the engine its spec names (loaded on the first page, once per
    process), and the count of pages read out of pages planned, reported after each change so
    the admin sees a long scan advance. A file's parsers `plan` the pages they will OCR before
    reading any (an e-mail's attachments add theirs as they come)."""

    def __init__(self, spec: dict[str, Any] | None = None, on_progress: Progress | None = None):
        self.spec = spec
        self.on_progress = on_progress
        self.done = 0
        self.total = 0

    def plan(self, pages: int) -> None:
        if pages:
            self.total += pages
            self._report()

    def read(self, image: Image.Image, page: int) -> tuple[str, list[TextBox]]:
        """The text of an image that is `page` (1-based) of its document, with its lines' boxes
        in percent of the image."""
        lines = load_engine(self.spec).read(image)
        self.done += 1
        self._report()
        return page_text(lines, image.width, image.height, page)

    def skip(self) -> None:
        """A planned page that could not be read (not rendered): it counts as done."""
        self.done += 1
        self._report()

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.done, max(self.total, self.done))
