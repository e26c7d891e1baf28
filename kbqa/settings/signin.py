"""Sign-in settings: local accounts, LDAP / Active Directory (django-auth-ldap) and OpenID Connect
(mozilla-django-oidc), all from the environment (README, "Signing in with company accounts").

Each part is a function of the environment that returns the Django settings it implies, so the
tests build a directory's settings the same way a deployment does (they set the variables, call
the function, and apply the result).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from kbqa.settings.env import env_bool, env_int, env_list, env_str

LOCAL_BACKEND = "kbqa.accounts.backends.LocalAccountBackend"
LDAP_BACKEND = "kbqa.accounts.backends.DirectoryLdapBackend"
OIDC_BACKEND = "kbqa.accounts.backends.DirectoryOidcBackend"


def directory_group_map(entries: list[str]) -> dict[str, str] | None:
    """`KBQA_DIRECTORY_GROUPS`: `finance,hr=human-resources` mirrors the directory group
    "finance" as the Django group "finance" and "hr" as "human-resources", and no other; an empty
    list mirrors every group under its own name. Keys are compared case-insensitively (AD's
    names are)."""
    if not entries:
        return None
    mapping: dict[str, str] = {}
    for entry in entries:
        directory, _, django = entry.partition("=")
        directory, django = directory.strip(), (django.strip() or directory.strip())
        if not directory or len(django) > 150:
            raise ImproperlyConfigured(f"KBQA_DIRECTORY_GROUPS: cannot read {entry!r}")
        mapping[directory.casefold()] = django
    return mapping


def local_settings() -> dict:
    mode = env_str("KBQA_LOCAL_ACCOUNTS", "all").strip().lower()
    if mode not in ("all", "superusers"):
        raise ImproperlyConfigured(f"KBQA_LOCAL_ACCOUNTS={mode!r}: use all or superusers")
    return {
        "KBQA_LOCAL_ACCOUNTS": mode,
        "KBQA_DIRECTORY_GROUPS": directory_group_map(env_list("KBQA_DIRECTORY_GROUPS", [])),
    }


def ldap_settings() -> dict:
    """django-auth-ldap's settings from `KBQA_LDAP_*`; LDAP is off (an empty dict, but for the
    flag) while `KBQA_LDAP_URI` is unset."""
    uri = env_str("KBQA_LDAP_URI").strip()
    if not uri:
        return {"KBQA_LDAP_ENABLED": False}
    import ldap
    from django_auth_ldap.config import LDAPSearch, NestedGroupOfNamesType

    user_base = env_str("KBQA_LDAP_USER_BASE").strip()
    group_base = env_str("KBQA_LDAP_GROUP_BASE").strip()
    if not user_base:
        raise ImproperlyConfigured("KBQA_LDAP_USER_BASE must be set when KBQA_LDAP_URI is")
    # Users by uid (OpenLDAP) or sAMAccountName (AD): a server that lacks one of the attributes
    # evaluates its half as undefined, and the other half decides. LDAPSearch escapes the
    # username (RFC 4515), so `*`, `(`, `)`, `\` and NUL match only themselves.
    active = env_str("KBQA_LDAP_ACTIVE_FILTER").strip()
    user_filter = f"(&(|(uid=%(user)s)(sAMAccountName=%(user)s)){active})"
    timeout = env_int("KBQA_LDAP_TIMEOUT_S", 5)
    options: dict = {
        ldap.OPT_NETWORK_TIMEOUT: timeout,
        ldap.OPT_TIMEOUT: timeout,
        ldap.OPT_REFERRALS: 0,  # AD answers searches at the domain root with referrals
    }
    ca_file = env_str("KBQA_LDAP_CA_FILE").strip()
    if ca_file:
        options[ldap.OPT_X_TLS_CACERTFILE] = ca_file
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        options[ldap.OPT_X_TLS_NEWCTX] = 0  # last: makes the TLS options above take effect
    return {
        "KBQA_LDAP_ENABLED": True,
        "AUTH_LDAP_SERVER_URI": uri,
        "AUTH_LDAP_BIND_DN": env_str("KBQA_LDAP_BIND_DN"),
        "AUTH_LDAP_BIND_PASSWORD": env_str("KBQA_LDAP_BIND_PASSWORD"),
        "AUTH_LDAP_START_TLS": env_bool("KBQA_LDAP_START_TLS", False),
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(user_base, ldap.SCOPE_SUBTREE, user_filter),
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        # groupOfNames (OpenLDAP) and AD groups both list their members in `member`; nested
        # groups count (a member of a member group is a member).
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(
            group_base or user_base,
            ldap.SCOPE_SUBTREE,
            "(|(objectClass=groupOfNames)(objectClass=group))",
        ),
        "AUTH_LDAP_GROUP_TYPE": NestedGroupOfNamesType(name_attr="cn"),
        # kbqa.accounts.services mirrors the groups itself (mapping, audit records).
        "AUTH_LDAP_MIRROR_GROUPS": False,
        "AUTH_LDAP_CACHE_TIMEOUT": 0,  # group changes count at the next sign-in, not later
    }


def oidc_settings() -> dict:
    """mozilla-django-oidc's settings from `KBQA_OIDC_*`; off while `KBQA_OIDC_CLIENT_ID` is
    unset. The provider's endpoints are given explicitly: nothing is fetched at start."""
    client_id = env_str("KBQA_OIDC_CLIENT_ID").strip()
    if not client_id:
        return {"KBQA_OIDC_ENABLED": False}
    endpoints = {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": "KBQA_OIDC_AUTHORIZATION_ENDPOINT",
        "OIDC_OP_TOKEN_ENDPOINT": "KBQA_OIDC_TOKEN_ENDPOINT",
        "OIDC_OP_USER_ENDPOINT": "KBQA_OIDC_USERINFO_ENDPOINT",
        "OIDC_OP_JWKS_ENDPOINT": "KBQA_OIDC_JWKS_ENDPOINT",
    }
    result: dict = {
        "KBQA_OIDC_ENABLED": True,
        "KBQA_OIDC_NAME": env_str("KBQA_OIDC_NAME", "single sign-on"),
        "KBQA_OIDC_USERNAME_CLAIM": env_str("KBQA_OIDC_USERNAME_CLAIM", "preferred_username"),
        "KBQA_OIDC_GROUPS_CLAIM": env_str("KBQA_OIDC_GROUPS_CLAIM", "groups"),
        # The provider is asked again (and the groups claim re-read) at least this often.
        "KBQA_OIDC_SESSION_MINUTES": env_int("KBQA_OIDC_SESSION_MINUTES", 480),
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": env_str("KBQA_OIDC_CLIENT_SECRET"),
        "OIDC_RP_SIGN_ALGO": env_str("KBQA_OIDC_SIGN_ALGO", "RS256"),
        "OIDC_RP_SCOPES": env_str("KBQA_OIDC_SCOPES", "openid email profile"),
        "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc_authentication_callback",
        "LOGIN_REDIRECT_URL_FAILURE": "/accounts/login/?sso=failed",
        "OIDC_TIMEOUT": env_int("KBQA_OIDC_TIMEOUT_S", 10),
        # Off only for a provider that publishes a single signing key without a `kid`.
        "OIDC_VERIFY_KID": env_bool("KBQA_OIDC_VERIFY_KID", True),
    }
    for setting, variable in endpoints.items():
        result[setting] = env_str(variable).strip()
        if not result[setting]:
            raise ImproperlyConfigured(f"{variable} must be set when KBQA_OIDC_CLIENT_ID is")
    return result


def authentication_backends(*, ldap: bool, oidc: bool) -> list[str]:
    """Local passwords first: the first admin and service accounts sign in without waiting on a
    directory, even one that is down."""
    return [LOCAL_BACKEND] + [LDAP_BACKEND] * ldap + [OIDC_BACKEND] * oidc
