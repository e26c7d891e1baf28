"""Turn an uploaded file into per-page text.

Every failure becomes a ParseError whose message is shown to the admin as is, so it must say what is
wrong with the file in words a person can act on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
SUPPORTED_SUFFIXES = {".pdf", *TEXT_SUFFIXES}


class ParseError(Exception):
    """The file cannot be turned into text; retrying will not help."""


@dataclass
class ParsedDocument:
    pages: list[str]  # pages[0] is page 1; text files are one page

    @property
    def text_chars(self) -> int:
        return sum(len(page.strip()) for page in self.pages)


def parse_file(path: Path, *, name: str | None = None) -> ParsedDocument:
    suffix = Path(name or path.name).suffix.lower()
    if suffix == ".pdf":
        return parse_pdf(path)
    if suffix in TEXT_SUFFIXES:
        return parse_text(path)
    raise ParseError(
        f"Unsupported file type {suffix or '(none)'!r}; supported: "
        + ", ".join(sorted(SUPPORTED_SUFFIXES))
    )


def parse_pdf(path: Path) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            # Owner-password-only PDFs open with an empty user password; others cannot be read.
            try:
                if not reader.decrypt(""):
                    raise ParseError("The PDF is password-protected; upload an unencrypted copy.")
            except (FileNotDecryptedError, NotImplementedError) as exc:
                raise ParseError(
                    "The PDF is password-protected; upload an unencrypted copy."
                ) from exc
        pages = [(page.extract_text() or "") for page in reader.pages]
    except ParseError:
        raise
    except FileNotDecryptedError as exc:
        raise ParseError("The PDF is password-protected; upload an unencrypted copy.") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        logger.info("PDF parse failed for %s: %r", path, exc)
        raise ParseError(f"The file is not a readable PDF ({exc}).") from exc
    if not pages:
        raise ParseError("The PDF has no pages.")
    return ParsedDocument(pages=pages)


def parse_text(path: Path) -> ParsedDocument:
    raw = path.read_bytes()
    encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"The text file is not valid {encoding.upper()} (byte {exc.start})."
        ) from exc
    return ParsedDocument(pages=[text])
