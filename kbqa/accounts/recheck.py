"""The periodic re-check of LDAP accounts (Celery beat, every `KBQA_DIRECTORY_RECHECK_MINUTES`):
each directory user is looked up again with the service account, their groups mirrored and, if the
directory no longer has them as an enabled user, deactivated. So a change in the directory reaches
open sessions and API tokens within one interval, without waiting for the user to sign in again.

A directory that cannot be reached changes nothing: a user is deactivated only when the directory
answered that it has no such enabled user."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import ldap
from django.conf import settings
from django_auth_ldap.backend import ldap_error

from kbqa.accounts.backends import DirectoryLdapBackend
from kbqa.accounts.models import DirectoryAccount, Source
from kbqa.accounts.services import directory_user_gone
from kbqa.accounts.signals import ldap_error_detail

logger = logging.getLogger(__name__)


class DirectoryUnreachable(Exception):
    pass


@dataclass
class RecheckReport:
    checked: int = 0
    deactivated: int = 0
    skipped: int = 0  # an LDAP error on this user: left as it was, tried again next time


def ldap_service_bind() -> ldap.ldapobject.LDAPObject:
    """A connection bound as the service account, with the settings' TLS and time-outs."""
    connection = ldap.initialize(settings.AUTH_LDAP_SERVER_URI, bytes_mode=False)
    for option, value in settings.AUTH_LDAP_CONNECTION_OPTIONS.items():
        connection.set_option(option, value)
    if settings.AUTH_LDAP_START_TLS:
        connection.start_tls_s()
    connection.simple_bind_s(settings.AUTH_LDAP_BIND_DN, settings.AUTH_LDAP_BIND_PASSWORD)
    return connection


@contextmanager
def ldap_errors() -> Iterator[list[BaseException]]:
    """The LDAP errors raised or signalled inside the block. django-auth-ldap reports a failed
    user search as "no such user" (and signals the error): listening means an error is never
    mistaken for a removed user."""
    errors: list[BaseException] = []

    def collect(sender, exception=None, **kwargs) -> None:
        errors.append(exception)

    ldap_error.connect(collect, weak=False)
    try:
        yield errors
    except ldap.LDAPError as error:
        errors.append(error)
    finally:
        ldap_error.disconnect(collect)


def ldap_recheck() -> RecheckReport:
    report = RecheckReport()
    if not settings.KBQA_LDAP_ENABLED:
        return report
    try:
        ldap_service_bind().unbind_s()
    except ldap.LDAPError as error:
        raise DirectoryUnreachable(
            f"{settings.AUTH_LDAP_SERVER_URI}: {ldap_error_detail(error)}"
        ) from error
    backend = DirectoryLdapBackend()
    accounts = DirectoryAccount.objects.filter(source=Source.LDAP).select_related("user")
    for account in accounts.order_by("pk").iterator():
        user = None
        with ldap_errors() as errors:
            user = backend.populate_user(account.subject)
        report.checked += 1
        if errors:
            report.skipped += 1
            logger.warning("directory re-check of %s skipped: %r", account.subject, errors[0])
        elif user is None:
            report.deactivated += directory_user_gone(
                account, reason="the directory has no enabled user of this name"
            )
    logger.info("directory re-check: %s", report)
    return report
