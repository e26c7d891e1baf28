"""Named API tokens for intranet tools: stored hashed, shown once, revocable, expiring, scoped.

A token is 32 random bytes, so a plain SHA-256 of it is as hard to reverse as the token is to
guess: no salt or slow hash is needed (those protect low-entropy passwords), and lookup stays one
indexed query. Only the hash and a short prefix (to tell tokens apart in lists) are stored.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "kbqa_"


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        """`ask`: read, search, ask, conversations and feedback. `manage`: also upload, delete and
        re-index documents and manage collections (if the user's permissions allow it too)."""

        ASK = "ask", "Read and ask"
        MANAGE = "manage", "Read, ask and manage documents"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="what the token is for, e.g. 'wiki bot'")
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.ASK)
    prefix = models.CharField(max_length=16, editable=False, help_text="first characters, to tell")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="unique_token_name_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def allows(self, scope: str) -> bool:
        return scope == self.Scope.ASK or self.scope == self.Scope.MANAGE
