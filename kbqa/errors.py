"""The one error body every JSON endpoint answers with (API, chat, console):
`{"error": {"code", "message", "fields"}}`. `code` is stable and machine-readable, `message` is for
people (the pages show it as is), `fields` (validation errors only) maps each bad field to its
messages."""

from __future__ import annotations

from django.http import JsonResponse


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error, **extra}


def error_response(
    code: str, message: str, status: int, fields: dict | None = None, **extra
) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields, **extra), status=status)
