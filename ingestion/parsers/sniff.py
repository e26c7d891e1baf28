"""Refuse files whose content contradicts their extension (a renamed executable, a ZIP called .pdf).

Only a handful of signatures matter: the formats we parse and the binaries most often mislabelled.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ingestion.parsers.base import ParseError

_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "a Linux executable"),
    (b"\xd0\xcf\x11\xe0", "an old Office (OLE) document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
]


def content_kind(head: bytes) -> str | None:
    if b"%PDF" in head[:1024]:
        return "a PDF document"
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    return None


def check_head(head: bytes, suffix: str) -> None:
    """Refuse content whose signature contradicts `suffix`; `head` is the file's first 2 KB. Cheap
    enough to run at upload, so a mislabelled file is refused before it is stored."""
    kind = content_kind(head)
    expected = {".pdf": "a PDF document", ".docx": "a ZIP archive"}.get(suffix)
    if kind == expected:
        return
    if expected == "a PDF document" and kind is None:
        return  # let the PDF parser say precisely what is wrong with it
    if kind is not None or expected is not None:
        raise ParseError(
            f"The file is named {suffix} but its content is {kind or 'something else'}; "
            "upload it with the right extension.",
            "content_mismatch",
            suffix=suffix,
            kind=kind or "something else",
        )


def check_content(path: Path, suffix: str) -> None:
    with path.open("rb") as handle:
        head = handle.read(2048)
    if not head:
        raise ParseError("The file is empty (0 bytes).", "empty")
    check_head(head, suffix)
    if suffix == ".docx" and not _is_docx(path):
        raise ParseError(
            "The file is named .docx but it is not a Word document (no word/document.xml).",
            "content_mismatch",
            suffix=".docx",
            kind="something other than a Word document",
        )


def _is_docx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False
