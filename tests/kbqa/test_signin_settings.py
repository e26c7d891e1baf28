"""kbqa/settings/signin.py: what the sign-in variables turn into, and the loud refusal of values
that cannot work."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from kbqa.settings.signin import (
    LDAP_BACKEND,
    LOCAL_BACKEND,
    OIDC_BACKEND,
    authentication_backends,
    directory_group_map,
    ldap_settings,
    local_settings,
    oidc_settings,
)


def test_everything_is_off_until_configured(monkeypatch):
    for name in ("KBQA_LDAP_URI", "KBQA_OIDC_CLIENT_ID", "KBQA_LOCAL_ACCOUNTS"):
        monkeypatch.delenv(name, raising=False)
    assert ldap_settings() == {"KBQA_LDAP_ENABLED": False}
    assert oidc_settings() == {"KBQA_OIDC_ENABLED": False}
    assert local_settings()["KBQA_LOCAL_ACCOUNTS"] == "all"
    assert authentication_backends(ldap=False, oidc=False) == [LOCAL_BACKEND]
    assert authentication_backends(ldap=True, oidc=True) == [
        LOCAL_BACKEND,
        LDAP_BACKEND,
        OIDC_BACKEND,
    ]


def test_ldap_settings_escape_the_username_and_apply_the_active_filter(monkeypatch):
    monkeypatch.setenv("KBQA_LDAP_URI", "ldaps://dc1.corp.example.com")
    monkeypatch.setenv("KBQA_LDAP_USER_BASE", "OU=Staff,DC=corp,DC=example,DC=com")
    monkeypatch.setenv(
        "KBQA_LDAP_ACTIVE_FILTER", "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"
    )
    monkeypatch.setenv("KBQA_LDAP_CA_FILE", "/etc/kbqa/ca.pem")
    values = ldap_settings()
    search = values["AUTH_LDAP_USER_SEARCH"]
    assert search.base_dn == "OU=Staff,DC=corp,DC=example,DC=com"
    filter_ = search.filterstr % search._escape_filterargs({"user": "a*)(uid=*"})
    assert filter_ == (
        r"(&(|(uid=a\2a\29\28uid=\2a)(sAMAccountName=a\2a\29\28uid=\2a))"
        "(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"
    )
    assert values["AUTH_LDAP_GROUP_SEARCH"].base_dn == "OU=Staff,DC=corp,DC=example,DC=com"
    import ldap

    options = values["AUTH_LDAP_CONNECTION_OPTIONS"]
    assert options[ldap.OPT_X_TLS_CACERTFILE] == "/etc/kbqa/ca.pem"
    assert list(options)[-1] == ldap.OPT_X_TLS_NEWCTX  # last, or the TLS options do nothing


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"KBQA_LDAP_URI": "ldap://x"}, "KBQA_LDAP_USER_BASE"),
        ({"KBQA_OIDC_CLIENT_ID": "kbqa"}, "KBQA_OIDC_AUTHORIZATION_ENDPOINT"),
        ({"KBQA_LOCAL_ACCOUNTS": "none"}, "KBQA_LOCAL_ACCOUNTS"),
        ({"KBQA_DIRECTORY_GROUPS": "=finance"}, "KBQA_DIRECTORY_GROUPS"),
    ],
)
def test_unworkable_values_stop_the_start_naming_the_variable(monkeypatch, variables, named):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=named):
        local_settings() | ldap_settings() | oidc_settings()


def test_the_group_map_restricts_renames_and_ignores_case():
    assert directory_group_map([]) is None
    assert directory_group_map(["Finance", "hr=human-resources"]) == {
        "finance": "Finance",
        "hr": "human-resources",
    }
