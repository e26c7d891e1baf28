"""Receivers: every sign-in and failed sign-in goes to the audit trail, and an LDAP error during
a sign-in marks the request, so the login page can say the directory is down instead of blaming
the password."""

from __future__ import annotations

import ldap
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from django_auth_ldap.backend import ldap_error

from kbqa.accounts.models import AccountEvent, Source
from kbqa.accounts.services import account_event

BACKEND_SOURCES = {
    "LocalAccountBackend": Source.LOCAL,
    "DirectoryLdapBackend": Source.LDAP,
    "DirectoryOidcBackend": Source.OIDC,
}


def note_refusal(request: HttpRequest | None, reason: str, *, unreachable: bool = False) -> None:
    """Why a directory refused this sign-in, for its audit record and the login page."""
    if request is not None:
        request.kbqa_sign_in_refusal = reason
        request.kbqa_directory_unreachable = (
            getattr(request, "kbqa_directory_unreachable", False) or unreachable
        )


def ldap_error_detail(error: BaseException) -> str:
    """An LDAP error for the audit trail and the re-check's log. libldap reports a server
    certificate it does not trust in the words it uses for a server that is down (StartTLS:
    CONNECT_ERROR, ldaps://: SERVER_DOWN, both "(unknown error code)"), so over TLS the detail
    names that cause as well."""
    uri = getattr(settings, "AUTH_LDAP_SERVER_URI", "")
    over_tls = getattr(settings, "AUTH_LDAP_START_TLS", False) or (
        isinstance(uri, str) and uri.lower().startswith("ldaps:")
    )
    if over_tls and isinstance(error, (ldap.CONNECT_ERROR, ldap.SERVER_DOWN)):
        return (
            "LDAP error over TLS (also what a server certificate that does not chain to "
            f"KBQA_LDAP_CA_FILE, or does not name the URI's host, gives): {error!r}"
        )
    return f"LDAP error: {error!r}"


@receiver(ldap_error)
def directory_error(sender, request=None, exception=None, **kwargs) -> None:
    note_refusal(request, ldap_error_detail(exception)[:500], unreachable=True)


@receiver(user_logged_in)
def record_sign_in(sender, request, user, **kwargs) -> None:
    backend = getattr(user, "backend", "") or ""
    source = BACKEND_SOURCES.get(backend.rsplit(".", 1)[-1], "")
    account_event(AccountEvent.Kind.SIGNED_IN, user=user, source=source, request=request)


@receiver(user_login_failed)
def record_failed_sign_in(sender, credentials, request=None, **kwargs) -> None:
    unreachable = getattr(request, "kbqa_directory_unreachable", False)
    kind = (
        AccountEvent.Kind.DIRECTORY_UNREACHABLE if unreachable else AccountEvent.Kind.SIGN_IN_FAILED
    )
    # An OIDC callback passes the code flow's nonce, a password form a username.
    source = Source.OIDC if "nonce" in credentials else ""
    account_event(
        kind,
        username=str(credentials.get("username") or ""),
        source=source,
        detail=getattr(request, "kbqa_sign_in_refusal", ""),
        request=request,
    )
