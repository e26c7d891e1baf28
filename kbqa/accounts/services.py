"""The rules of directory accounts, whichever directory vouched for the user (LDAP or OIDC):
which directory groups become which Django groups, when a user is linked, deactivated or
activated again, and the audit record of each of these and of every sign-in."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from kbqa.accounts.models import AccountEvent, DirectoryAccount, Source

logger = logging.getLogger("kbqa.audit")


class AccountConflict(Exception):
    """The directory's username belongs to an account the directory does not own (a local one,
    or another directory's): signing in would take that account over."""


def client_address(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def account_event(
    kind: str,
    *,
    user: AbstractBaseUser | None = None,
    username: str = "",
    source: str = "",
    detail: str = "",
    request: HttpRequest | None = None,
) -> AccountEvent:
    """Record one sign-in event in the database (admin → Account events) and the `kbqa.audit`
    log."""
    username = (username or getattr(user, "username", "") or "")[:150]
    event = AccountEvent.objects.create(
        kind=kind,
        user=user if getattr(user, "pk", None) else None,
        username=username,
        source=source,
        address=client_address(request),
        detail=detail[:1000],
    )
    logger.info(
        "account %s user=%s username=%r source=%s address=%s %s",
        kind,
        event.user_id,
        username,
        source or "-",
        event.address or "-",
        detail,
    )
    return event


@dataclass(frozen=True)
class GroupChange:
    added: frozenset[str]
    removed: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)

    def __str__(self) -> str:
        parts = [f"+{name}" for name in sorted(self.added)]
        parts += [f"-{name}" for name in sorted(self.removed)]
        return " ".join(parts)


def mirrored_group_names(directory_groups: Iterable[str]) -> tuple[set[str], set[str] | None]:
    """(the Django groups the directory groups become, the Django groups the directory manages:
    None for all of them). `KBQA_DIRECTORY_GROUPS` restricts and renames; unset, every
    directory group is mirrored under its own name and the user's groups become exactly these."""
    mapping: dict[str, str] | None = settings.KBQA_DIRECTORY_GROUPS
    if mapping is None:
        return {name[:150] for name in directory_groups if name}, None
    wanted = {mapping[name.casefold()] for name in directory_groups if name.casefold() in mapping}
    return wanted, set(mapping.values())


@transaction.atomic
def directory_groups_mirror(
    user: AbstractBaseUser, directory_groups: Iterable[str], *, source: str
) -> GroupChange:
    """Make `user`'s Django groups follow the directory groups they are in now. Collections'
    readers are Django groups, so this is what decides what they read."""
    wanted, managed = mirrored_group_names(directory_groups)
    current = set(user.groups.values_list("name", flat=True))
    removed = (current if managed is None else current & managed) - wanted
    added = wanted - current
    if added:
        for name in added:
            Group.objects.get_or_create(name=name)
        user.groups.add(*Group.objects.filter(name__in=added))
    if removed:
        user.groups.remove(*Group.objects.filter(name__in=removed))
    change = GroupChange(frozenset(added), frozenset(removed))
    if change:
        account_event(
            AccountEvent.Kind.GROUPS_CHANGED, user=user, source=source, detail=str(change)
        )
    return change


def directory_account_for(user: AbstractBaseUser, *, source: str, subject: str) -> DirectoryAccount:
    """The link between `user` and the directory entry `subject`, made at their first sign-in.
    Refuses (AccountConflict) a user who already exists without that link: a directory entry
    named like the local `admin` must not become that admin."""
    account = DirectoryAccount.objects.filter(user=user).first()
    if account is None:
        if user.pk is not None and (user.has_usable_password() or user.last_login is not None):
            raise AccountConflict(f"{user.username!r} is an existing {Source.LOCAL.label} account")
        return DirectoryAccount(user=user, source=source, subject=subject)
    if account.source != source or account.subject != subject:
        raise AccountConflict(f"{user.username!r} belongs to {account}")
    return account


@transaction.atomic
def directory_user_confirmed(
    user: AbstractBaseUser,
    *,
    source: str,
    subject: str,
    groups: Iterable[str],
    request: HttpRequest | None = None,
) -> GroupChange:
    """The directory has just vouched for `user` (a sign-in or a re-check found them enabled):
    link the account, activate it again if the directory had deactivated it, mirror groups.
    An admin's deactivation stands: only the directory undoes its own."""
    account = directory_account_for(user, source=source, subject=subject)
    if account.disabled_by_directory:
        account.disabled_by_directory = False
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
            account_event(AccountEvent.Kind.REACTIVATED, user=user, source=source, request=request)
    account.checked_at = timezone.now()
    account.save()
    return directory_groups_mirror(user, groups, source=source)


@transaction.atomic
def directory_user_gone(account: DirectoryAccount, *, reason: str) -> bool:
    """The directory no longer has `account` as an enabled user (disabled, deleted, or outside
    the search): deactivate the user, which ends their sessions and API tokens at their next
    request. True if this changed anything."""
    user = account.user
    account.checked_at = timezone.now()
    changed = user.is_active
    if changed:
        user.is_active = False
        user.save(update_fields=["is_active"])
        account.disabled_by_directory = True
        account_event(
            AccountEvent.Kind.DEACTIVATED, user=user, source=account.source, detail=reason
        )
    account.save()
    return changed
