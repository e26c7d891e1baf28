"""One JSON error body for the whole site: `{"error": {"code", "message", "fields"}}`.

The REST API's exception handler (`kbqa.api.errors`), plain Django views, the middleware that
refuses NUL bytes and the site's 400/403/404/500 handlers all answer with it, so a client parses
one shape whatever answered. `code` is stable and machine-readable; `message` is for people;
`fields` (validation errors only) maps each bad field to its messages.

The handlers answer JSON where a program is asking (paths under /api/ and /v1/, or a request that
prefers `application/json`) and a small HTML page otherwise; unlike Django's defaults they never
list URL patterns or settings. Under /v1/, the OpenAI-compatible facade, the body takes OpenAI's
shape (`{"error": {"message", "type", "code", "param"}}`), which OpenAI's SDKs read.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.utils.translation import gettext as _
from django.views import csrf
from django.views.decorators.csrf import requires_csrf_token

JSON_PATHS = ("/api/", "/v1/")
OPENAI_PATH = "/v1/"
OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}


def error_body(code: str, message: str, fields: dict | None = None, **extra) -> dict:
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error, **extra}


def error_response(
    code: str, message: str, status: int, fields: dict | None = None, **extra
) -> JsonResponse:
    """The error body as a response, for views that are not REST framework views."""
    return JsonResponse(error_body(code, message, fields, **extra), status=status)


def openai_error_body(status: int, error: dict) -> dict:
    """OpenAI's error shape for the `error` of an error body."""
    kind = OPENAI_TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    param = next(iter(error.get("fields", {})), None)
    return {
        "error": {"message": error["message"], "type": kind, "code": error["code"], "param": param}
    }


def request_error_response(
    request: HttpRequest, code: str, message: str, status: int, fields: dict | None = None
) -> JsonResponse:
    """The error body in the shape the caller reads: OpenAI's under /v1/, else the site's."""
    if request.path_info.startswith(OPENAI_PATH):
        error = error_body(code, message, fields)["error"]
        return JsonResponse(openai_error_body(status, error), status=status)
    return error_response(code, message, status, fields)


def wants_json(request: HttpRequest) -> bool:
    if request.path_info.startswith(JSON_PATHS):
        return True
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def _page_or_json(
    request: HttpRequest, code: str, title: str, message: str, status: int
) -> HttpResponse:
    if wants_json(request):
        return request_error_response(request, code, message, status)
    context = {"status": status, "title": title, "message": message}
    return render(request, "error.html", context, status=status)


def bad_request_message(exception: Exception) -> str:
    """The limits' own messages say what to change; other causes (a disallowed host, a file name
    escaping its folder) are not the client's business in detail."""
    if isinstance(exception, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return str(exception)
    return _("The request is malformed.")


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = bad_request_message(exception)
    return _page_or_json(request, "bad_request", _("Bad request"), message, 400)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = _("You do not have permission to do this.")
    return _page_or_json(request, "permission_denied", _("Permission denied"), message, 403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the error body for scripts; Django's explanatory page for browsers."""
    if wants_json(request):
        message = _("CSRF check failed: %s") % reason
        return request_error_response(request, "permission_denied", message, 403)
    return csrf.csrf_failure(request, reason)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = _("There is nothing at this address.")
    return _page_or_json(request, "not_found", _("Not found"), message, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request's context: whatever broke the request (the database, a
    context processor) must not break its error page too."""
    message = _("Something went wrong on our side; please try again.")
    if wants_json(request):
        return request_error_response(request, "server_error", message, 500)
    context = {"status": 500, "title": _("Server error"), "message": message}
    return HttpResponse(get_template("error.html").render(context), status=500)
