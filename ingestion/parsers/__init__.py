"""Turn an uploaded file into per-page text plus the headings that structure it.

Parsers import no Django: they run in a child process (see `sandbox`) so that a file built to hang
or exhaust a parser costs that child, never the worker. Every failure becomes a ParseError whose
message is shown to the admin as is, so it must say what is wrong with the file in words a person
can act on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = {".pdf", ".docx", *TEXT_SUFFIXES, *MARKDOWN_SUFFIXES, *HTML_SUFFIXES}


class ParseError(Exception):
    """The file cannot be turned into text; retrying will not help."""


@dataclass(frozen=True)
class Heading:
    page: int  # 1-based
    offset: int  # where the heading starts in that page's text
    level: int  # 1 = top level
    title: str


@dataclass
class ParsedDocument:
    pages: list[str]  # pages[0] is page 1; formats without pages are one page
    headings: list[Heading] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings that do not stop ingestion

    @property
    def text_chars(self) -> int:
        return sum(len(page.strip()) for page in self.pages)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ParsedDocument:
        return cls(
            pages=data["pages"],
            headings=[Heading(**h) for h in data["headings"]],
            notes=data["notes"],
        )


def unsupported_message(suffix: str) -> str:
    return f"Unsupported file type {suffix or '(none)'!r}; supported: " + ", ".join(
        sorted(SUPPORTED_SUFFIXES)
    )


def parse_file(path: Path, *, name: str | None = None) -> ParsedDocument:
    """Parse in this process, choosing the parser by extension after checking the content agrees."""
    from ingestion.parsers.sniff import check_content

    suffix = Path(name or path.name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ParseError(unsupported_message(suffix))
    check_content(path, suffix)
    if suffix == ".pdf":
        from ingestion.parsers.pdf import parse_pdf

        return parse_pdf(path)
    if suffix == ".docx":
        from ingestion.parsers.docx import parse_docx

        return parse_docx(path)
    if suffix in HTML_SUFFIXES:
        from ingestion.parsers.html import parse_html

        return parse_html(path)
    from ingestion.parsers.text import parse_markdown, parse_text

    return parse_markdown(path) if suffix in MARKDOWN_SUFFIXES else parse_text(path)
