"""Refuse NUL characters in request text, in one place for every view.

PostgreSQL text cannot hold NUL (U+0000): a NUL that reaches a query or a row is a 500 there
(and a silently different value on SQLite). No text a person writes contains one, so a request
carrying one anywhere a view reads text from is refused with 400 and the error body naming
the field: query strings, cookies, form fields (any method), multipart field names and
file names, and JSON bodies at any depth, keys included.

File names need care: Django's multipart parser drops non-printable characters from them, so
`report\\x00.exe.txt` would arrive as `report.exe.txt` (and become the document "report.exe"),
and a name of NUL alone would make the file part vanish. The parser this middleware installs
keeps the NUL in the name instead, so the check below sees it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from io import BytesIO

from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

from kbqa.errors import request_error_response

NUL = "\x00"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class NulKeepingMultiPartParser(MultiPartParser):
    """Django's parser, except that a file name holding NUL keeps it (and is never dropped)."""

    def sanitize_file_name(self, file_name: str) -> str | None:
        cleaned = super().sanitize_file_name(file_name)
        if NUL in file_name:
            return f"{cleaned or ''}{NUL}"
        return cleaned


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.parse_file_upload = lambda meta, data: NulKeepingMultiPartParser(
            meta, data, request.upload_handlers, request.encoding
        ).parse()
        try:
            fields = {name: [message] for name, message in _nul_fields(request)}
        except MultiPartParserError as exc:
            # What REST framework would answer later, had the body been left to it.
            message = f"Multipart form parse error - {exc}"
            return request_error_response(request, "parse_error", message, 400)
        except RecursionError:  # json.loads: REST framework's parser would fail the same way
            message = _("JSON parse error - nested too deeply.")
            return request_error_response(request, "parse_error", message, 400)
        if fields:
            name, (message,) = next(iter(fields.items()))
            return request_error_response(request, "invalid", f"{name}: {message}", 400, fields)
        return self.get_response(request)


def _nul_fields(request: HttpRequest) -> Iterator[tuple[str, str]]:
    """(field, message) for each place of the request where text holds a NUL."""
    yield from _in_multidict(request.GET)
    for name, value in request.COOKIES.items():
        if NUL in name or NUL in value:
            yield f"cookie {_shown(name)}", _("Text may not contain NUL characters.")
    if request.content_type in FORM_TYPES:
        data, files = _form(request)
        yield from _in_multidict(data)
        for name, uploads in files.lists():
            if NUL in name:
                yield _shown(name), _("Field names may not contain NUL characters.")
            elif any(NUL in upload.name for upload in uploads):
                yield name, _("File names may not contain NUL characters.")
        if files is not request.FILES:  # parsed here for a PUT or PATCH: not the request's own
            for _name, uploads in files.lists():
                for upload in uploads:
                    upload.close()
    elif request.body:
        # Any other body is checked as JSON whatever its declared type (some views read JSON
        # without looking at it); a body that is not JSON is left for the view to refuse.
        try:
            data = json.loads(request.body)
        except ValueError:
            return
        yield from _in_json(data)


def _form(request: HttpRequest) -> tuple[QueryDict, MultiValueDict]:
    """The form fields and files of any method: Django parses them for POST only."""
    if request.method == "POST":
        return request.POST, request.FILES
    if request.content_type == "multipart/form-data":
        return request.parse_file_upload(request.META, BytesIO(request.body))
    return QueryDict(request.body, encoding=request.encoding), MultiValueDict()


def _in_multidict(data: QueryDict) -> Iterator[tuple[str, str]]:
    for name, values in data.lists():
        if NUL in name:
            yield _shown(name), _("Field names may not contain NUL characters.")
        elif any(NUL in value for value in values):
            yield name, _("Text may not contain NUL characters.")


def _in_json(document) -> Iterator[tuple[str, str]]:
    """Walked with a stack, not recursion: JSON may nest as deep as its parser allows."""
    stack = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                yield path or "body", _("Text may not contain NUL characters.")
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                where = f"{path}.{_shown(key)}" if path else _shown(key)
                if NUL in key:
                    yield where, _("Field names may not contain NUL characters.")
                else:
                    stack.append((where, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(value))))


def _shown(name: str) -> str:
    """A field name as the error names it: its NUL written out, not sent back raw."""
    return name.replace(NUL, "\\x00")
