"""Authentication back ends (settings.AUTHENTICATION_BACKENDS, chosen in kbqa/settings/signin.py):
local passwords, LDAP / Active Directory and OpenID Connect. Each directory back end lets its
library do the protocol and hands the user and their directory groups to
`kbqa.accounts.services.directory_user_confirmed`, the one place groups are mirrored."""

from __future__ import annotations

import ldap
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django_auth_ldap.backend import LDAPBackend
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from kbqa.accounts.models import Source
from kbqa.accounts.services import AccountConflict, directory_account_for, directory_user_confirmed
from kbqa.accounts.signals import note_refusal


class LocalAccountBackend(ModelBackend):
    """Django's own passwords. `KBQA_LOCAL_ACCOUNTS=superusers` keeps them for superusers only
    (the first admin, break-glass), once staff sign in through the directory."""

    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user):
            return False
        return settings.KBQA_LOCAL_ACCOUNTS == "all" or user.is_superuser


class ActiveUsersOnly:
    """A session lives only while its user is active: a user the directory disabled is signed out
    at their next request (ModelBackend checks this; the libraries' back ends do not)."""

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


class DirectoryLdapBackend(ActiveUsersOnly, LDAPBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.KBQA_LDAP_ENABLED:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_or_build_user(self, username, ldap_user):
        user, built = super().get_or_build_user(username, ldap_user)
        if not built:
            try:
                directory_account_for(user, source=Source.LDAP, subject=user.username)
            except AccountConflict as conflict:
                note_refusal(ldap_user._request, str(conflict))
                raise ldap_user.AuthenticationFailed(str(conflict)) from None
        return user, built

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is not None:
            return self.confirmed(user, ldap_user, request=ldap_user._request)
        return None

    def populate_user(self, username):
        """The re-check's look-up (service account bind): the user with groups mirrored, None if
        the directory has no enabled user of that name. LDAP errors propagate."""
        user = super().populate_user(username)
        if user is not None:
            return self.confirmed(user, user.ldap_user, request=None)
        return None

    @staticmethod
    def confirmed(user, ldap_user, *, request):
        try:
            groups = ldap_user.group_names
        except ldap.LDAPError as error:
            # Without the groups, a sign-in would keep groups the directory has taken away.
            if request is None:
                raise
            note_refusal(request, f"LDAP error reading groups: {error!r}", unreachable=True)
            return None
        # The subject is the Django username (django-auth-ldap lowercases it): "Alice" and
        # "alice" are one directory user, as they are one LDAP entry.
        directory_user_confirmed(
            user, source=Source.LDAP, subject=user.username, groups=groups, request=request
        )
        return user


class DirectoryOidcBackend(ActiveUsersOnly, OIDCAuthenticationBackend):
    """Users are found by the provider's `sub`, named by `KBQA_OIDC_USERNAME_CLAIM`, and their
    groups read from `KBQA_OIDC_GROUPS_CLAIM` (ID token or user info) at every sign-in."""

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("sub")) and bool(self.username_from(claims))

    @staticmethod
    def username_from(claims) -> str:
        value = claims.get(settings.KBQA_OIDC_USERNAME_CLAIM) or claims.get("email") or ""
        return str(value)[:150]

    @staticmethod
    def groups_from(claims) -> list[str]:
        groups = claims.get(settings.KBQA_OIDC_GROUPS_CLAIM) or []
        if isinstance(groups, str):
            groups = [groups]
        # Keycloak's full group paths ("/finance/payroll") name the group by its last part.
        return [str(group).rstrip("/").rsplit("/", 1)[-1] for group in groups]

    def filter_users_by_claims(self, claims):
        return get_user_model().objects.filter(
            directory_account__source=Source.OIDC, directory_account__subject=claims["sub"]
        )

    def create_user(self, claims):
        model = get_user_model()
        username = self.username_from(claims)
        user = model.objects.filter(username__iexact=username).first()
        if user is None:
            user = model(
                username=username,
                email=str(claims.get("email", ""))[:254],
                first_name=str(claims.get("given_name", ""))[:150],
                last_name=str(claims.get("family_name", ""))[:150],
            )
            user.set_unusable_password()
            user.save()
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        try:
            directory_user_confirmed(
                user,
                source=Source.OIDC,
                subject=claims["sub"],
                groups=self.groups_from(claims),
                request=self.request,
            )
        except AccountConflict as conflict:
            note_refusal(self.request, str(conflict))
            raise SuspiciousOperation(str(conflict)) from None
        # Nothing re-reads a provider's groups between sign-ins: the session's length bounds how
        # long a removed group stays in effect.
        self.request.session.set_expiry(60 * settings.KBQA_OIDC_SESSION_MINUTES)
        return user
