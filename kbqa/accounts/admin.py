"""The sign-in audit trail and directory links in the admin, read-only: the directory, not an
admin, changes them."""

from __future__ import annotations

from django.contrib import admin

from kbqa.accounts.models import AccountEvent, DirectoryAccount


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccountEvent)
class AccountEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "kind", "username", "source", "address", "detail")
    list_filter = ("kind", "source")
    search_fields = ("username", "detail", "address")
    date_hierarchy = "at"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # an audit trail nobody can trim


@admin.register(DirectoryAccount)
class DirectoryAccountAdmin(ReadOnlyAdmin):
    list_display = ("user", "source", "subject", "disabled_by_directory", "checked_at")
    list_filter = ("source", "disabled_by_directory")
    search_fields = ("user__username", "subject")
