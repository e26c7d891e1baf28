from __future__ import annotations

from django.conf import settings
from django.db import models


class Source(models.TextChoices):
    LOCAL = "local", "local password"
    LDAP = "ldap", "LDAP / Active Directory"
    OIDC = "oidc", "OpenID Connect"


class DirectoryAccount(models.Model):
    """Links a Django user to the directory entry it mirrors: the periodic re-check walks these,
    and an OIDC sign-in finds its user by the provider's subject, not by a name anyone could
    take."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="directory_account"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    subject = models.CharField(max_length=255, help_text="LDAP username or OIDC `sub`")
    # Set when the directory (not an admin) deactivated the user: only then does a later
    # successful directory sign-in or re-check activate them again.
    disabled_by_directory = models.BooleanField(default=False)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "subject"], name="directory_account_subject")
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.subject}"


class AccountEvent(models.Model):
    """The sign-in audit trail: sign-ins, failed sign-ins, directory group changes and
    (de)activations. A failed sign-in may name no existing user, so the username is kept as
    typed (cut to 150 characters) beside the user, if any."""

    class Kind(models.TextChoices):
        SIGNED_IN = "signed_in", "signed in"
        SIGN_IN_FAILED = "sign_in_failed", "sign-in failed"
        DIRECTORY_UNREACHABLE = "directory_unreachable", "directory unreachable"
        GROUPS_CHANGED = "groups_changed", "groups changed"
        DEACTIVATED = "deactivated", "deactivated by the directory"
        REACTIVATED = "reactivated", "reactivated by the directory"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account_events",
    )
    username = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()} {self.username}"
