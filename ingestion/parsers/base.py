"""What every parser returns or raises; no Django here (parsers run in a child process)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = {".pdf", ".docx", *TEXT_SUFFIXES, *MARKDOWN_SUFFIXES, *HTML_SUFFIXES}


class ParseError(Exception):
    """The file cannot be turned into text; retrying will not help.

    The message is English, for logs and the API; `code` names the reason and `params` its details,
    so a page can say it in the reader's language (`ingestion.failures`)."""

    def __init__(self, message: str, code: str = "unreadable", **params: str | int) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


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


def unsupported_error(suffix: str) -> ParseError:
    return ParseError(
        unsupported_message(suffix),
        "unsupported_type",
        suffix=suffix or "(none)",
        supported=", ".join(sorted(SUPPORTED_SUFFIXES)),
    )


def unsupported_message(suffix: str) -> str:
    return f"Unsupported file type {suffix or '(none)'!r}; supported: " + ", ".join(
        sorted(SUPPORTED_SUFFIXES)
    )
