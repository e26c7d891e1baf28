"""API tokens in the admin: list, inspect and revoke (keys are never shown: only their prefix)."""

from __future__ import annotations

from django.contrib import admin

from kbqa.api.models import ApiToken
from kbqa.api.tokens import token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "scope", "prefix", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("scope",)
    search_fields = ("name", "user__username", "prefix")
    readonly_fields = (
        "user", "name", "scope", "prefix", "expires_at", "revoked_at", "last_used_at",
        "created_at",
    )  # fmt: skip
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # created where the key can be shown once: the API or create_api_token

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset) -> None:
        for token in queryset:
            token_revoke(token=token, by=request.user)
        self.message_user(request, f"Revoked {queryset.count()} token(s).")
