"""Email messages (.eml, the stdlib `email` package): page 1 holds the headers people search by
(From, To, Cc, Date, Subject) and the body (plain text preferred, else the HTML's main text); each
attachment of a supported type is parsed by its own parser and follows as further pages, headed
"Attachment: <name>", so a question about the attached spreadsheet finds it in this message.

A message is a tree the `email` package walks by recursion, so a hostile one nested a thousand
levels deep would end in RecursionError (or a very long walk). The nesting is bounded before
parsing, by counting the MIME containers the raw message declares, and attached messages are
parsed at most `MAX_NESTING` deep.
"""

from __future__ import annotations

import mimetypes
import re
import tempfile
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path, PurePosixPath

from ingestion.parsers.base import (
    SUPPORTED_SUFFIXES,
    ParsedDocument,
    ParseError,
    unreadable_error,
)
from ingestion.parsers.builder import DocumentBuilder, append_document

FileParser = Callable[..., ParsedDocument]
HEADERS = ("From", "To", "Cc", "Date", "Subject")
MAX_MIME_CONTAINERS = 100  # multipart and message/* parts declared in one message
MAX_NESTING = 3  # messages attached to messages attached to ...
MAX_ATTACHMENTS = 50
# A Content-Type naming a container, however written (folded, quoted, with a comment first).
_CONTAINER = re.compile(rb"content-type:[^:]{0,100}?(?:multipart|message)/", re.IGNORECASE)
_nesting: ContextVar[int] = ContextVar("eml_nesting", default=0)


def parse_eml(path: Path, *, parse_file: FileParser) -> ParsedDocument:
    """`parse_file` parses an attachment (saved to a file) by its name: the package's own entry
    point, passed in because it is what imports this module."""
    raw = path.read_bytes()
    containers = len(_CONTAINER.findall(raw))
    if containers > MAX_MIME_CONTAINERS:
        raise _too_nested(
            f"it has {containers:,} multipart or message parts (limit {MAX_MIME_CONTAINERS})"
        )
    if _nesting.get() > MAX_NESTING:
        raise _too_nested(f"messages are attached more than {MAX_NESTING} levels deep")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        parsed, attachments, names = _first_page(message)
    except (ParseError, MemoryError):  # the sandbox reports running out of memory as such
        raise
    except Exception as exc:  # RecursionError included: the count above is a heuristic
        detail = f"{type(exc).__name__}: {exc}"
        raise unreadable_error("a readable email message", "unreadable_email", detail) from exc
    _add_attachments(parsed, attachments, names, parse_file)
    return parsed


def _first_page(message: EmailMessage) -> tuple[ParsedDocument, list[EmailMessage], list[str]]:
    """The headers and body as page 1; the attachments and their names, to follow."""
    body = message.get_body(preferencelist=("plain", "html"))
    leaves = list(_leaves(message))
    attachments = [part for part, _ in leaves if _is_attachment(part)]
    names = _names(attachments)
    builder = DocumentBuilder()
    lines = [f"{name}: {value}" for name in HEADERS if (value := _header(message, name))]
    if names:
        lines.append("Attachments: " + ", ".join(names))
    subject = _header(message, "Subject")
    builder.text("\n".join(lines), 1 if subject else None, title=subject)
    for part, alternative in leaves:
        if part is body or (not alternative and not _is_attachment(part) and _is_text(part)):
            _add_text(builder, part)
    return builder.build(), attachments, names


def _leaves(message: EmailMessage) -> Iterator[tuple[EmailMessage, bool]]:
    """The message's non-multipart parts in order, each with whether it is one of several
    alternatives (an HTML twin of the plain body is not more text). Attached messages are leaves:
    they are parsed as attachments. A loop, not recursion: depth costs nothing here."""
    stack: list[tuple[EmailMessage, bool]] = [(message, False)]
    while stack:
        part, alternative = stack.pop()
        payload = part.get_payload()
        if part.get_content_maintype() == "multipart" and isinstance(payload, list):
            inner = alternative or part.get_content_subtype() == "alternative"
            stack.extend((child, inner) for child in reversed(payload))
        else:
            yield part, alternative


def _is_attachment(part: EmailMessage) -> bool:
    if part.get_content_type() == "message/rfc822":
        return True
    disposition = part.get_content_disposition()
    if disposition == "attachment":
        return True
    # Inline images shown by the HTML body (logos, signatures) are decoration, not attachments.
    inline_image = part.get_content_maintype() == "image" and part["Content-ID"] is not None
    return bool(part.get_filename()) and not inline_image


def _is_text(part: EmailMessage) -> bool:
    return part.get_content_type() in {"text/plain", "text/html"}


def _add_text(builder: DocumentBuilder, part: EmailMessage) -> None:
    from ingestion.parsers.html import html_document

    text = _part_text(part)
    if part.get_content_subtype() != "html":
        builder.text(text.replace("\r\n", "\n").strip())
        return
    html = html_document(text)
    offset = builder.text(html.pages[0])
    if offset >= 0:
        page = len(builder.pages) + 1
        builder.headings.extend(
            replace(h, page=page, offset=offset + h.offset, level=h.level + 1)
            for h in html.headings
        )


def _part_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, ValueError):  # an unknown or lying charset
        pass
    from ingestion.parsers.text import decode

    try:
        return decode(part.get_payload(decode=True) or b"")
    except ParseError:
        return ""


def _header(message: EmailMessage, name: str) -> str:
    try:
        values = [str(value) for value in message.get_all(name, [])]
    except Exception:  # a header built to defeat the structured parser: show it as written
        values = [value for key, value in message.raw_items() if key.lower() == name.lower()]
    return " ".join(", ".join(values).split())


def _names(attachments: list[EmailMessage]) -> list[str]:
    """Safe, distinct base names (a name is never a path: "../x.pdf" is "x.pdf")."""
    names: list[str] = []
    for number, part in enumerate(attachments, start=1):
        name = (part.get_filename() or "").replace("\\", "/")
        name = " ".join(PurePosixPath(name).name.split()).lstrip(".")
        if not name and part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            subject = _header(inner, "Subject") if isinstance(inner, EmailMessage) else ""
            name = f"{subject or 'message'}.eml".replace("/", "_")
        if not name:
            extension = mimetypes.guess_extension(part.get_content_type()) or ""
            name = f"attachment-{number}{extension}"
        while name in names:
            stem, suffix = Path(name).stem, Path(name).suffix
            name = f"{stem} ({number}){suffix}"
        names.append(name)
    return names


def _add_attachments(
    parsed: ParsedDocument, attachments: list[EmailMessage], names: list[str], parse: FileParser
) -> None:
    unsupported: list[str] = []
    for index, (part, name) in enumerate(zip(attachments, names, strict=True)):
        suffix = Path(name).suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            unsupported.append(name)
            continue
        if index >= MAX_ATTACHMENTS:
            parsed.notes.append(f"Attachment {name} was not read: over {MAX_ATTACHMENTS}.")
            continue
        try:
            inner = _parse_attachment(_attachment_bytes(part), name, parse)
        except (ParseError, LookupError, TypeError, ValueError, IndexError) as exc:
            # One damaged attachment (a lying encoding, a broken attached message) costs itself.
            parsed.notes.append(f"Attachment {name} could not be read: {exc}")
            continue
        title = f"Attachment: {name}"
        append_document(parsed, inner, prefix=title, level=1, caption=title)
        parsed.notes.extend(f"Attachment {name}: {note}" for note in inner.notes)
    if unsupported:
        parsed.notes.append(
            "Attachments not indexed (type not supported): " + ", ".join(unsupported)
        )


def _attachment_bytes(part: EmailMessage) -> bytes:
    if part.get_content_type() == "message/rfc822":
        return part.get_payload(0).as_bytes(policy=policy.default)
    return part.get_payload(decode=True) or b""


def _parse_attachment(data: bytes, name: str, parse: FileParser) -> ParsedDocument:
    token = _nesting.set(_nesting.get() + 1)
    try:
        with tempfile.TemporaryDirectory(prefix="kbqa-eml-") as folder:
            path = Path(folder) / f"attachment{Path(name).suffix.lower()}"
            path.write_bytes(data)
            return parse(path, name=name)
    finally:
        _nesting.reset(token)


def _too_nested(detail: str) -> ParseError:
    return ParseError(
        f"The email message is nested too deeply to read safely: {detail}.",
        "email_too_nested",
        detail=detail,
    )
