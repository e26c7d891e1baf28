"""What every API view module shares: the token scopes and the default permission classes."""

from __future__ import annotations

from rest_framework.permissions import IsAuthenticated

from kbqa.api.models import ApiToken
from kbqa.api.permissions import ModelPermission, TokenScope

ASK, MANAGE = ApiToken.Scope.ASK, ApiToken.Scope.MANAGE
PERMISSIONS = [IsAuthenticated, TokenScope, ModelPermission]
