"""The REST API's exception handler: every failure answers the site's one error body
(`kbqa.errors.error_body`): `{"error": {"code", "message", "fields"}}`.

`code` is stable and machine-readable (`invalid`, `not_authenticated`, `authentication_failed`,
`permission_denied`, `not_found`, `method_not_allowed`, `unsupported_media_type`, `parse_error`,
`throttled`, `conflict`, `server_error`); `message` is for people; `fields` (validation errors
only) maps each bad field to its messages. The shape matches OpenAI's, so the chat-completions
facade uses it too.
"""

from __future__ import annotations

import logging
import math

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ingestion.errors import Conflict as StateConflict
from kbqa.errors import bad_request_message, error_body

__all__ = ["Conflict", "error_body", "exception_handler"]

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state."


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            text = _first_message(value)
            return text if key == "non_field_errors" else f"{key}: {text}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def _throttled_message(wait: float | None) -> str:
    if wait is None:
        return _("Too many requests; please wait a moment and try again.")
    seconds = max(1, math.ceil(wait))
    return ngettext(
        "Too many requests; please wait %(seconds)d second and try again.",
        "Too many requests; please wait %(seconds)d seconds and try again.",
        seconds,
    ) % {"seconds": seconds}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, StateConflict):
        exc = Conflict(str(exc))
    elif isinstance(exc, exceptions.Throttled):
        wait = exc.wait
        exc = exceptions.Throttled(detail=_throttled_message(wait))
        exc.wait = wait  # DRF's handler sends it as Retry-After
    elif isinstance(exc, SuspiciousOperation | BadRequest):  # Django's request limits, mostly
        return Response(
            error_body("bad_request", bad_request_message(exc)), status=status.HTTP_400_BAD_REQUEST
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            error_body("server_error", "Something went wrong on our side; please try again."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("invalid", _first_message(exc.detail), fields)
    else:
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = error_body(
            code if isinstance(code, str) else "error", _first_message(exc.detail)
        )
    return response
