"""What every parser returns or raises; no Django here (parsers run in a child process)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
SPREADSHEET_SUFFIXES = {".xlsx", ".xls", ".csv"}
SUPPORTED_SUFFIXES = {
    ".pdf",
    ".docx",
    ".pptx",
    ".eml",
    *TEXT_SUFFIXES,
    *MARKDOWN_SUFFIXES,
    *HTML_SUFFIXES,
    *IMAGE_SUFFIXES,
    *SPREADSHEET_SUFFIXES,
}


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


@dataclass(frozen=True)
class Table:
    """A table of a page, which the page's text holds at [start, end) as `markdown_table(header,
    rows)`. The chunker cuts it into table chunks of whole rows, each repeating the header, so a
    passage of a long table still says what its columns are."""

    page: int  # 1-based
    start: int  # offsets in that page's text
    end: int
    header: list[str]
    rows: list[list[str]]
    caption: str = ""  # caption or nearest heading: the chunks' section
    first_row: int = 2  # source row number of rows[0] (a sheet's row; 1-based, header included)


@dataclass(frozen=True)
class TextBox:
    """Where a run of a page's text [start, end) lies on the page image, in percent of the page's
    width and height from the top left: OCR keeps its boxes so a cited passage can be marked."""

    page: int  # 1-based
    start: int
    end: int
    left: float
    top: float
    width: float
    height: float


@dataclass
class ParsedDocument:
    pages: list[str]  # pages[0] is page 1; formats without pages are one page
    headings: list[Heading] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # warnings that do not stop ingestion
    tables: list[Table] = field(default_factory=list)
    ocr_pages: list[int] = field(default_factory=list)  # 1-based pages whose text is OCR's
    boxes: list[TextBox] = field(default_factory=list)  # OCR lines, in page and text order
    page_labels: list[str] = field(default_factory=list)  # per page (sheet names); [] = numbers

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
            tables=[Table(**t) for t in data.get("tables", [])],
            ocr_pages=data.get("ocr_pages", []),
            boxes=[TextBox(**b) for b in data.get("boxes", [])],
            page_labels=data.get("page_labels", []),
        )


def markdown_cell(value: object) -> str:
    """A cell's text on one line, with pipes escaped: a table row is one line of Markdown."""
    return " ".join(str(value if value is not None else "").split()).replace("|", "\\|")


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """GitHub-flavoured Markdown, every row padded to the header's width."""
    width = max([len(header), *(len(row) for row in rows)] or [1])

    def line(cells: list[str]) -> str:
        cells = [markdown_cell(c) for c in cells] + [""] * (width - len(cells))
        return "| " + " | ".join(cells) + " |"

    return "\n".join([line(header), "|" + "---|" * width, *(line(row) for row in rows)])


def unreadable_error(what: str, code: str, detail: object) -> ParseError:
    """Says "The file is not `what` (detail)": `what` names the format ("a readable
    spreadsheet"), `detail` (an exception or its text) what its library found wrong."""
    text = str(detail) or type(detail).__name__
    return ParseError(f"The file is not {what} ({text}).", code, detail=text)


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
