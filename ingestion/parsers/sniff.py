"""Refuse files whose content contradicts their extension (a renamed executable, a ZIP called .pdf),
and Office files that would hurt or defeat a parser, before a parser opens them.

Only a handful of signatures matter: the formats we parse and the binaries most often mislabelled.
Office Open XML files (.docx, .xlsx, .pptx) are ZIP packages: the package must hold its format's
main part, and its sizes, read from the ZIP directory, must be sane, since openpyxl, python-docx and
python-pptx inflate whatever a part says it holds (a few KB can claim gigabytes). A password-
protected Office file is not a ZIP at all but an OLE container holding an `EncryptedPackage`.
The limits are constants here: parsers run in a child process without Django's settings, and the
child's memory limit stays the backstop.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import IO

from ingestion.parsers.base import ParseError, unreadable_error

PDF, ZIP, OLE = "a PDF document", "a ZIP archive", "an old Office (OLE) document"
PNG, JPEG, TIFF = "a PNG image", "a JPEG image", "a TIFF image"
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF", PDF),
    (b"PK\x03\x04", ZIP),
    (b"\x89PNG", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"II*\x00", TIFF),  # little-endian
    (b"MM\x00*", TIFF),  # big-endian
    (b"GIF8", "a GIF image"),
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "a Linux executable"),
    (b"\xd0\xcf\x11\xe0", OLE),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
]

# Office Open XML: the part every package of the format holds, and what else it is said to be.
OOXML = {
    ".docx": ("word/document.xml", "something other than a Word document"),
    ".xlsx": ("xl/workbook.xml", "something other than an Excel workbook"),
    ".pptx": ("ppt/presentation.xml", "something other than a PowerPoint presentation"),
}
_EXPECTED = {
    ".pdf": PDF,
    ".xls": OLE,
    **dict.fromkeys(OOXML, ZIP),
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".tif": TIFF,
    ".tiff": TIFF,
}
_UNREADABLE = {
    ".docx": ("a readable Word document", "unreadable_docx"),
    ".xlsx": ("a readable spreadsheet", "unreadable_spreadsheet"),
    ".pptx": ("a readable PowerPoint presentation", "unreadable_pptx"),
}

MB = 1024 * 1024
PACKAGE_MAX_BYTES = 1024 * MB  # all parts of one Office file, uncompressed
PACKAGE_MAX_PARTS = 10_000
PART_MAX_RATIO = 200  # uncompressed:compressed; real sheet XML stays well under 100:1
PART_RATIO_FROM = MB  # smaller parts may compress as they like: they cannot hurt

# An email starts with a header field ("Received: ...") or an mbox "From " line.
_EMAIL_START = re.compile(rb"\A(?:[\t \r\n]*)(?:From |[!-9;-~]+:)")


def content_kind(head: bytes) -> str | None:
    if b"%PDF" in head[:1024]:
        return PDF
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    return None


def check_head(head: bytes, suffix: str) -> None:
    """Refuse content whose signature contradicts `suffix`; `head` is the file's first 2 KB."""
    kind = content_kind(head)
    expected = _EXPECTED.get(suffix)
    if kind == expected:
        return
    if expected == PDF and kind is None:
        return  # let the PDF parser say precisely what is wrong with it
    if suffix in OOXML and kind == OLE:
        return  # password-protected, or an old file renamed: `check_file` tells which
    if kind is not None or expected is not None:
        raise _mismatch(suffix, kind or "something else")


def check_file(handle: IO[bytes], suffix: str) -> None:
    """Every content check for a file of this suffix, on a seekable binary file (an upload or a
    stored file). Cheap: at most the ZIP directory is read, or for OLE files the file itself."""
    handle.seek(0)
    head = handle.read(2048)
    handle.seek(0)
    if not head:
        raise ParseError("The file is empty (0 bytes).", "empty")
    check_head(head, suffix)
    kind = content_kind(head)
    if kind == OLE and suffix in {".xls", *OOXML}:
        streams = _ole_streams(handle)
        if "EncryptedPackage" in streams:
            raise encrypted_error()
        if suffix in OOXML:
            raise _mismatch(suffix, OLE)
    elif suffix in OOXML:
        _check_package(handle, suffix)
    elif suffix == ".eml" and not _EMAIL_START.match(head):
        raise _mismatch(suffix, "something other than an email message")
    handle.seek(0)


def check_content(path: Path, suffix: str) -> None:
    with path.open("rb") as handle:
        check_file(handle, suffix)


def encrypted_error() -> ParseError:
    return ParseError(
        "The file is password-protected; upload an unencrypted copy.", "encrypted_office"
    )


def _mismatch(suffix: str, kind: str) -> ParseError:
    return ParseError(
        f"The file is named {suffix} but its content is {kind}; "
        "upload it with the right extension.",
        "content_mismatch",
        suffix=suffix,
        kind=kind,
    )


def _ole_streams(handle: IO[bytes]) -> set[str]:
    """Names in an OLE container's directory (xlrd reads the format; it is ours already)."""
    from xlrd.compdoc import CompDoc

    try:
        return {entry.name for entry in CompDoc(handle.read(), logfile=io.StringIO()).dirlist}
    except Exception:  # a damaged container (even one built to recurse): the parser will say
        return set()
    finally:
        handle.seek(0)


def _check_package(handle: IO[bytes], suffix: str) -> None:
    main_part, other = OOXML[suffix]
    what, code = _UNREADABLE[suffix]
    try:
        with zipfile.ZipFile(handle) as package:
            infos = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise unreadable_error(what, code, f"damaged ZIP package: {exc}") from exc
    if main_part not in {info.filename for info in infos}:
        raise _mismatch(suffix, other)
    if len(infos) > PACKAGE_MAX_PARTS:
        raise _bomb(f"it holds {len(infos):,} parts (limit {PACKAGE_MAX_PARTS:,})")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > PART_RATIO_FROM and ratio > PART_MAX_RATIO:
            raise _bomb(
                f"its part {info.filename!r} expands {ratio:,.0f}:1 to {info.file_size // MB:,} MB"
            )
    total = sum(info.file_size for info in infos)
    if total > PACKAGE_MAX_BYTES:
        raise _bomb(f"it expands to {total // MB:,} MB (limit {PACKAGE_MAX_BYTES // MB:,} MB)")


def _bomb(detail: str) -> ParseError:
    return ParseError(
        f"The file was refused as a possible ZIP bomb: {detail}.", "zip_bomb", detail=detail
    )
