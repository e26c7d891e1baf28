"""Images (PNG, JPEG, TIFF; each frame of a multi-page TIFF a page), read by OCR.

Sizes are checked from the file's header before a pixel is decoded: a decompression bomb (a small
file declaring more pixels than Pillow's limit, 89 million) or a page over `MAX_SIDE` pixels on a
side is refused with its own reason rather than left to exhaust the sandbox's memory. A photo's
EXIF orientation is applied, so the text is read upright and the viewer shows the page as taken.
"""

from __future__ import annotations

from pathlib import Path

from ingestion.ocr import PageReader
from ingestion.parsers.base import ParsedDocument, ParseError, TextBox, unreadable_error

MAX_SIDE = 10_000  # pixels on either side of a page


def parse_image(path: Path, ocr: PageReader | None = None) -> ParsedDocument:
    from PIL import Image, ImageOps

    ocr = ocr or PageReader()
    image = open_image(path)
    pages: list[str] = []
    boxes: list[TextBox] = []
    try:
        with image:
            # A TIFF's frames are pages; other formats' extra frames are not (a JPEG from a
            # camera may carry its preview as a second, MPO frame).
            frames = image.n_frames if image.format == "TIFF" else 1
            ocr.plan(frames)
            for index in range(frames):
                image.seek(index)
                check_size(*image.size)
                page = ImageOps.exif_transpose(image).convert("RGB")
                text, page_boxes = ocr.read(page, index + 1)
                pages.append(text)
                boxes.extend(page_boxes)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise unreadable_error("a readable image", "unreadable_image", exc) from exc
    read = [number for number, text in enumerate(pages, start=1) if text.strip()]
    if not read:
        raise ParseError("OCR found no text in the image.", "ocr_no_text")
    notes = []
    if len(read) < len(pages):
        unread = [str(n) for n in range(1, len(pages) + 1) if n not in read]
        notes.append("OCR found no text on page " + ", ".join(unread))
    return ParsedDocument(pages=pages, ocr_pages=read, boxes=boxes, notes=notes)


def open_image(path: Path):
    """The image, opened lazily (header read, no pixels decoded) with its size checked.

    Pillow's own bomb check is lifted for the open alone, so the size is judged here, by one
    rule with one message, for the first frame and later for each frame as it is reached."""
    from PIL import Image, UnidentifiedImageError

    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        image = Image.open(path)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise unreadable_error("a readable image", "unreadable_image", exc) from exc
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    try:
        check_size(*image.size)
    except ParseError:
        image.close()
        raise
    return image


def check_size(width: int, height: int) -> None:
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    if limit and width * height > limit:
        raise ParseError(
            f"The image was refused as a possible decompression bomb: {width:,} × {height:,} "
            f"pixels is more than the limit of {limit:,} pixels.",
            "image_bomb",
            width=f"{width:,}",
            height=f"{height:,}",
            limit=f"{limit:,}",
        )
    if max(width, height) > MAX_SIDE:
        raise ParseError(
            f"The image is too large to read: {width:,} × {height:,} pixels; a page may be at "
            f"most {MAX_SIDE:,} pixels on a side.",
            "image_too_large",
            width=f"{width:,}",
            height=f"{height:,}",
            limit=f"{MAX_SIDE:,}",
        )
