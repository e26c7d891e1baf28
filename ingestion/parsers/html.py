"""HTML (BeautifulSoup + lxml): the main content's text with its headings; scripts, styles,
navigation, headers, footers and forms are dropped."""

from __future__ import annotations

from pathlib import Path

from ingestion.parsers.base import Heading, ParsedDocument, ParseError

SKIP = {
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "iframe", "svg", "canvas", "button", "select", "head",
}  # fmt: skip
HEADINGS = {f"h{n}": n for n in range(1, 7)}
BLOCKS = {
    "p", "div", "section", "article", "main", "ul", "ol", "li", "table", "thead", "tbody",
    "blockquote", "pre", "dl", "dt", "dd", "figure", "figcaption", "caption", "hr", "address",
}  # fmt: skip
BLOCK_SEPARATOR = "\n\n"


def parse_html(path: Path) -> ParsedDocument:
    return html_document(path.read_bytes())


def html_document(markup: bytes | str) -> ParsedDocument:
    """One page of the markup's main text; an email's HTML body goes through here too."""
    from bs4 import BeautifulSoup, Comment, NavigableString

    try:
        soup = BeautifulSoup(markup, "lxml")  # detects the charset of bytes itself
    except Exception as exc:
        raise ParseError(
            f"The file is not readable HTML ({exc}).", "unreadable_html", detail=str(exc)
        ) from exc
    root = soup.find("main") or soup.find("article") or soup.body or soup
    blocks: list[str] = []
    headings: list[Heading] = []
    buffer: list[str] = []
    offset = 0

    def emit(text: str, level: int | None = None) -> None:
        nonlocal offset
        text = " ".join(text.split())
        if not text:
            return
        if level is not None:
            headings.append(Heading(1, offset, level, text))
        blocks.append(text)
        offset += len(text) + len(BLOCK_SEPARATOR)

    def flush() -> None:
        emit("".join(buffer))
        buffer.clear()

    def walk(node) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                buffer.append(str(child))
                continue
            name = child.name
            if name in SKIP:
                continue
            if name in HEADINGS:
                flush()
                emit(child.get_text(" "), HEADINGS[name])
            elif name == "tr":
                flush()
                emit(" | ".join(c.get_text(" ", strip=True) for c in child.find_all(["td", "th"])))
            elif name == "br":
                buffer.append(" ")
            elif name in BLOCKS:
                flush()
                if name == "li":
                    buffer.append("- ")
                walk(child)
                flush()
            else:
                walk(child)

    walk(root)
    flush()
    return ParsedDocument(pages=[BLOCK_SEPARATOR.join(blocks)], headings=headings)
