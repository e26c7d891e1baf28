"""API permissions: token scopes on top of the user's own Django permissions."""

from __future__ import annotations

from rest_framework import permissions

from kbqa.api.models import ApiToken


class TokenScope(permissions.BasePermission):
    """A request authenticated by an API token may do only what the token's scope covers: views
    name the scope they need in `required_scope` (default `ask`). Session requests are bounded by
    the user's permissions alone."""

    message = "This API token's scope does not cover this request."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        return token.allows(_required_scope(request, view))


def _required_scope(request, view) -> str:
    scope = getattr(view, "required_scope", ApiToken.Scope.ASK)
    if isinstance(scope, dict):  # per method: {"GET": "ask", "POST": "manage"}
        return scope.get(request.method, ApiToken.Scope.MANAGE)
    return scope


class ModelPermission(permissions.BasePermission):
    """Writes need the Django permission the view names per method in `write_permissions`
    (e.g. {"POST": "ingestion.add_document"}); reads need only a signed-in user."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if request.method.lower() not in view.http_method_names or not hasattr(
            view, request.method.lower()
        ):
            return True  # the view answers 405 Method Not Allowed
        needed = getattr(view, "write_permissions", {}).get(request.method)
        return needed is not None and request.user.has_perm(needed)
