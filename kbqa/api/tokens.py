"""API token services: create (the only moment the key exists in clear), authenticate, revoke."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from infra.audit import audit
from kbqa.api.models import TOKEN_PREFIX, ApiToken, token_hash

LAST_USED_GRANULARITY = timedelta(minutes=1)  # write last_used_at at most once a minute


class TokenError(ValueError):
    pass


class TokenInUse(TokenError):
    """The change would cut off the very request asking for it."""


def token_create(
    *,
    user: AbstractBaseUser,
    name: str,
    scope: str = ApiToken.Scope.ASK,
    days: int | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns it with its key, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise TokenError("Give the token a name saying what it is for.")
    if scope not in ApiToken.Scope.values:
        raise TokenError(f"Unknown scope {scope!r}; use one of {', '.join(ApiToken.Scope.values)}.")
    days = settings.KBQA_API_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= settings.KBQA_API_TOKEN_MAX_DAYS:
        raise TokenError(f"A token lasts 1 to {settings.KBQA_API_TOKEN_MAX_DAYS} days.")
    if ApiToken.objects.filter(user=user, name=name).exists():
        raise TokenError(f"There is already a token named {name!r}; revoke it or pick another.")
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        scope=scope,
        prefix=key[: len(TOKEN_PREFIX) + 6],
        key_hash=token_hash(key),
        expires_at=timezone.now() + timedelta(days=days),
    )
    audit(user, "api token created", token, f"scope {scope}, {days} days")
    return token, key


def token_authenticate(key: str) -> ApiToken | None:
    """The active token with this key (its user active too), or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(key), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_revoke(*, token: ApiToken, by: AbstractBaseUser, via: ApiToken | None = None) -> ApiToken:
    """Revoke `token` for `by`, who acts through the token `via` (None: a signed-in session, the
    admin, the shell). A token never revokes itself: a script would end its own access by a
    slip, with nothing left to undo it from."""
    if via is not None and via.pk == token.pk:
        raise TokenInUse(
            "A token cannot revoke itself; revoke it from a signed-in session or with another "
            "token."
        )
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit(by, "api token revoked", token)
    return token
