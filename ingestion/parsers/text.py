"""Plain text and Markdown, in whatever encoding they arrive (charset-normalizer decides)."""

from __future__ import annotations

from pathlib import Path

from ingestion.parsers.base import Heading, ParsedDocument, ParseError

_BOMS = [
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
]


def decode(raw: bytes) -> str:
    """BOMs are certain; UTF-8 is tried next because detection on short UTF-8 text can misfire;
    everything else (GB18030/GBK, Big5, Shift-JIS, Latin-1...) is left to charset-normalizer."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return raw.decode(encoding)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise ParseError(
            "The file is not text in any encoding we recognise (binary content?).", "not_text"
        )
    if best.encoding == "gb2312":  # GB18030 is a superset; GB2312 labels often hide GBK text
        return raw.decode("gb18030", errors="replace")
    return str(best)


def parse_text(path: Path) -> ParsedDocument:
    text = decode(path.read_bytes())
    if "\x00" in text:
        raise ParseError("The file is named as text but holds binary data.", "not_text")
    return ParsedDocument(pages=[text])


def parse_markdown(path: Path) -> ParsedDocument:
    """The Markdown source is kept as the text (citations show it as written); markdown-it finds
    the headings, so `#` inside code blocks is not mistaken for one."""
    from markdown_it import MarkdownIt

    text = parse_text(path).pages[0]
    line_starts = [0]
    for line in text.splitlines(keepends=True):
        line_starts.append(line_starts[-1] + len(line))
    tokens = MarkdownIt("commonmark").parse(text)
    headings = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            title = tokens[i + 1].content.strip()
            headings.append(Heading(1, line_starts[token.map[0]], int(token.tag[1]), title))
    return ParsedDocument(pages=[text], headings=headings)
