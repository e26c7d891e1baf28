"""OpenID Connect sign-in against a real provider process (oidc-provider-mock on 127.0.0.1),
through the Django test client and plain HTTP: the whole authorization code flow, groups from the
configured claim mirrored like LDAP's, and what must not happen (no button while unconfigured, no
take-over of a local account). tests/browser/test_sso.py clicks through the same flow."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import httpx
import pytest
from django.contrib.auth.models import User

from kbqa.accounts.models import AccountEvent, DirectoryAccount
from tests.kbqa.accounts.conftest import apply_signin_environment
from tests.kbqa.accounts.test_ldap import groups_of

pytestmark = pytest.mark.django_db


def sso_sign_in(client, sub: str):
    """Start at kbqa, authorize `sub` at the provider (its form, posted), return to kbqa's
    callback; the callback's response."""
    start = client.get("/accounts/oidc/authenticate/", {"next": "/"})
    assert start.status_code == 302
    authorized = httpx.post(start["Location"], data={"sub": sub})
    assert authorized.status_code in (302, 303), authorized.text[:500]
    callback = urlsplit(authorized.headers["location"])
    assert callback.path == "/accounts/oidc/callback/"
    return client.get(f"{callback.path}?{callback.query}")


def test_no_single_sign_on_until_it_is_configured(client):
    assert "Sign in with" not in client.get("/accounts/login/").content.decode()
    assert client.get("/accounts/oidc/authenticate/").status_code == 404
    assert client.get("/accounts/oidc/callback/").status_code == 404


def test_the_login_page_offers_the_provider(client, oidc_provider):
    page = client.get("/accounts/login/?next=/c/1/").content.decode()
    assert 'href="/accounts/oidc/authenticate/?next=/c/1/"' in page
    assert "Sign in with Keycloak" in page
    zh = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "通过 Keycloak 登录" in zh


def test_a_provider_sign_in_creates_the_user_with_the_claims_groups(client, oidc_provider):
    oidc_provider.user(
        "3f1c-alice",
        preferred_username="alice",
        email="alice@example.com",
        groups=["/finance", "staff"],  # Keycloak's group paths, and plain names
    )
    response = sso_sign_in(client, "3f1c-alice")
    assert response.status_code == 302 and response["Location"] == "/", response
    assert client.get("/").status_code == 200
    assert client.session.get_expiry_age() == 480 * 60  # KBQA_OIDC_SESSION_MINUTES
    user = User.objects.get(username="alice")
    assert not user.has_usable_password() and user.email == "alice@example.com"
    assert groups_of("alice") == {"finance", "staff"}
    assert DirectoryAccount.objects.get(user=user).subject == "3f1c-alice"
    assert AccountEvent.objects.filter(kind="signed_in", user=user, source="oidc").exists()

    # The provider's groups change: the next sign-in follows them.
    oidc_provider.user("3f1c-alice", preferred_username="alice", groups=["hr"])
    client.post("/accounts/logout/")
    assert sso_sign_in(client, "3f1c-alice")["Location"] == "/"
    assert groups_of("alice") == {"hr"}
    assert AccountEvent.objects.filter(
        kind="groups_changed", user=user, detail="+hr -finance -staff"
    ).exists()


def test_the_group_mapping_applies_to_claims_too(client, oidc_provider, settings, monkeypatch):
    apply_signin_environment(settings, monkeypatch, {"KBQA_DIRECTORY_GROUPS": "finance=fin"})
    oidc_provider.user("sub-bob", preferred_username="bob", groups=["finance", "hr"])
    assert sso_sign_in(client, "sub-bob")["Location"] == "/"
    assert groups_of("bob") == {"fin"}


def test_a_provider_user_does_not_take_over_a_local_account(client, oidc_provider, admin_user):
    oidc_provider.user("evil", preferred_username="admin", groups=[])
    response = sso_sign_in(client, "evil")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?sso=failed"
    page = html.unescape(client.get(response["Location"]).content.decode())
    assert "Signing in with Keycloak did not work" in page
    assert not DirectoryAccount.objects.exists()
    event = AccountEvent.objects.get(kind="sign_in_failed")
    assert event.source == "oidc" and "existing local password account" in event.detail


def test_a_user_deactivated_here_cannot_sign_in_through_the_provider(client, oidc_provider):
    oidc_provider.user("sub-carol", preferred_username="carol")
    assert sso_sign_in(client, "sub-carol")["Location"] == "/"
    User.objects.filter(username="carol").update(is_active=False)
    assert client.get("/").status_code == 302  # the open session ends
    assert sso_sign_in(client, "sub-carol")["Location"] == "/accounts/login/?sso=failed"
