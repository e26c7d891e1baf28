"""Why a document failed, in the reader's language, and whether trying again can help.

A failure is stored as a code with its details (`Document.error_code`, `error_params`) beside the
English message (`Document.error`, for logs and API clients that read text): ingestion runs in a
worker that knows no reader's language, so the pages translate the code when they show it.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "unsupported_type": _("Unsupported file type '%(suffix)s'; supported: %(supported)s."),
    "content_mismatch": _(
        "The file is named %(suffix)s but its content is %(kind)s; upload it with the right "
        "extension."
    ),
    "empty": _("The file is empty (0 bytes)."),
    "encrypted": _("The PDF is password-protected; upload an unencrypted copy."),
    "unreadable": _("The file cannot be read (%(detail)s)."),
    "unreadable_pdf": _("The file is not a readable PDF (%(detail)s)."),
    "unreadable_docx": _("The file is not a readable Word document (%(detail)s)."),
    "unreadable_html": _("The file is not readable HTML (%(detail)s)."),
    "unreadable_spreadsheet": _("The file is not a readable spreadsheet (%(detail)s)."),
    "unreadable_pptx": _("The file is not a readable PowerPoint presentation (%(detail)s)."),
    "unreadable_email": _("The file is not a readable email message (%(detail)s)."),
    "encrypted_office": _("The file is password-protected; upload an unencrypted copy."),
    "zip_bomb": _("The file was refused as a possible ZIP bomb: %(detail)s."),
    "email_too_nested": _("The email message is nested too deeply to read safely: %(detail)s."),
    "not_text": _("The file is named as text but holds binary data."),
    "no_pages": _("The PDF has no pages."),
    "no_text_layer": _(
        "No text could be extracted: pages %(pages)s have no usable text layer, and OCR found no "
        "text either."
    ),
    "unreadable_image": _("The file is not a readable image (%(detail)s)."),
    "image_bomb": _(
        "The image was refused as a possible decompression bomb: %(width)s × %(height)s pixels "
        "is more than the limit of %(limit)s pixels."
    ),
    "image_too_large": _(
        "The image is too large to read: %(width)s × %(height)s pixels; a page may be at most "
        "%(limit)s pixels on a side."
    ),
    "ocr_no_text": _("OCR found no text in the image."),
    "no_text": _("The file contains no text."),
    "parse_timeout": _("Parsing took longer than the %(seconds)s s limit and was stopped."),
    "parse_memory": _("Parsing needed more than the %(mb)s MB memory limit."),
    "parser_failed": _("The parser failed on this file (%(detail)s)."),
    "file_missing": _("The uploaded file is missing from storage; upload it again."),
    "unexpected": _("Ingestion failed unexpectedly (%(detail)s); try again."),
    "gave_up": _("Ingestion kept failing (%(detail)s); try again later."),
}

# What a file's content was found to be (`ingestion.parsers.sniff`), for "content_mismatch".
KINDS = {
    "a PDF document": _("a PDF document"),
    "a ZIP archive": _("a ZIP archive"),
    "a PNG image": _("a PNG image"),
    "a JPEG image": _("a JPEG image"),
    "a TIFF image": _("a TIFF image"),
    "a GIF image": _("a GIF image"),
    "a Windows executable": _("a Windows executable"),
    "a Linux executable": _("a Linux executable"),
    "an old Office (OLE) document": _("an old Office (OLE) document"),
    "a gzip archive": _("a gzip archive"),
    "a RAR archive": _("a RAR archive"),
    "a 7-Zip archive": _("a 7-Zip archive"),
    "something other than a Word document": _("something other than a Word document"),
    "something other than an Excel workbook": _("something other than an Excel workbook"),
    "something other than a PowerPoint presentation": _(
        "something other than a PowerPoint presentation"
    ),
    "something other than an email message": _("something other than an email message"),
    "something else": _("something else"),
}

# Failures where the same file may well succeed on another run: a loaded machine, a database or
# index that was briefly unavailable. The others are properties of the file itself.
RETRYABLE = frozenset({"parse_timeout", "unexpected", "gave_up"})


def failure_message(code: str, params: dict, fallback: str) -> str:
    """The failure in the active language; `fallback` (the stored English text) for a code this
    version does not know or details it lacks."""
    template = MESSAGES.get(code)
    if template is None:
        return fallback
    if "kind" in params:
        params = {**params, "kind": KINDS.get(params["kind"], params["kind"])}
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return fallback
