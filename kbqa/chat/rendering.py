"""Answers as safe HTML: Markdown rendered, then sanitised, then citation chips and support marks.

An answer is model output that may repeat anything a document contains, so it is untrusted: raw
HTML in the Markdown is escaped (markdown-it with `html` off) and the result is sanitised again
with nh3 (ammonia), which drops scripts, event handlers and `javascript:` links. The chips and
marks are added afterwards from integers and escaped text only, so they cannot reopen the door.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import nh3
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_MARKER = re.compile(r"\s?\[(\d+)\]")


def sanitize_markdown(text: str) -> str:
    """Markdown to HTML holding only harmless tags and http(s)/mailto links."""
    return nh3.clean(
        _markdown.render(text),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def spans_param(spans: Iterable) -> str:
    """A citation's used spans as the source viewer's `?spans=` value: "12-80,95-140"."""
    return ",".join(f"{int(a)}-{int(b)}" for a, b in spans or [])


def _chip(n: int, chunk_id: int | None, spans: str = "") -> str:
    if chunk_id is None:  # a number no stored citation maps to: shown as written, not clickable
        return f"[{n}]"
    label = html.escape(_("Open source %(n)s") % {"n": n})
    marks = f' data-spans="{spans}"' if spans else ""  # digits, "-" and "," only
    return (
        f'<button type="button" class="cite" data-n="{n}" data-chunk="{int(chunk_id)}"{marks} '
        f'aria-label="{label}">{n}</button>'
    )


def _outside_tags(fragment: str, index: int) -> bool:
    return fragment.rfind("<", 0, index) <= fragment.rfind(">", 0, index)


def _mark_unsupported(fragment: str, sentences: Iterable[str]) -> tuple[str, list[str]]:
    """Wrap each unsupported sentence where it appears as plain text; return those not found
    (a sentence split by inline formatting), for the note under the answer."""
    missing = []
    title = html.escape(_("Not supported by the cited sources"))
    for sentence in sentences:
        needle = html.escape(sentence, quote=False)
        index = fragment.find(needle)
        if not needle or index < 0 or not _outside_tags(fragment, index):
            missing.append(sentence)
            continue
        wrapped = f'<mark class="unsupported" title="{title}">{needle}</mark>'
        fragment = fragment[:index] + wrapped + fragment[index + len(needle) :]
    return fragment, missing


def answer_html(
    text: str, *, citations: list[dict], sentences: list[dict]
) -> tuple[SafeString, list[str]]:
    """The answer as HTML with `[n]` as chips that open source n, and its unsupported sentences
    marked. Also returns the unsupported sentences that could not be marked in place."""
    fragment = sanitize_markdown(text)
    unsupported = [s["text"] for s in sentences if not s.get("supported")]
    fragment, missing = _mark_unsupported(fragment, unsupported)
    chunks = {int(c["n"]): c.get("chunk_id") for c in citations}
    spans = {int(c["n"]): spans_param(c.get("spans")) for c in citations}

    def chip(match: re.Match) -> str:
        if not _outside_tags(fragment, match.start()):  # "[1]" inside an attribute stays as is
            return match.group(0)
        n = int(match.group(1))
        return _chip(n, chunks.get(n), spans.get(n, ""))

    fragment = _MARKER.sub(chip, fragment)
    return mark_safe(fragment), missing  # sanitised above; chips are built from ints


def message_context(message) -> dict:
    """What the answer template needs for one stored assistant message."""
    body, missing = answer_html(
        message.content, citations=message.citations, sentences=message.sentences
    )
    return {
        "message": message,
        "citations": [{**c, "spans_param": spans_param(c.get("spans"))} for c in message.citations],
        "body": body,
        "unmarked_unsupported": missing,
        "unsupported_count": sum(1 for s in message.sentences if not s.get("supported")),
    }
