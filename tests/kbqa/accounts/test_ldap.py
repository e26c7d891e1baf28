"""Signing in with directory accounts against a real slapd: users found by uid, groups (nested
included) mirrored into Django groups, group removal at the next sign-in, a locked account, a
wrong password, filter-injection characters, a directory that is down, and a directory name that
matches a local account."""

from __future__ import annotations

import html

import pytest
from django.contrib.auth.models import Group, User

from kbqa.accounts.models import AccountEvent, DirectoryAccount
from tests.kbqa.accounts.conftest import PASSWORD, apply_signin_environment

pytestmark = pytest.mark.django_db

WRONG = "Your username and password didn't match"
DIRECTORY_DOWN = "The company directory cannot be reached right now"


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def groups_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_a_directory_user_signs_in_with_their_groups_nested_ones_included(client, directory):
    alice = directory.add_user("alice")
    finance = directory.add_group("finance", alice)
    directory.add_group("all-staff", finance)  # alice is in it through finance
    directory.add_group("hr")

    response = sign_in(client, "alice")
    assert response.status_code == 302 and response["Location"] == "/", response.content[:500]
    assert client.get("/").status_code == 200

    user = User.objects.get(username="alice")
    assert (user.email, user.first_name, user.has_usable_password()) == (
        "alice@example.com",
        "Alice",
        False,
    )
    assert groups_of("alice") == {"finance", "all-staff"}
    assert DirectoryAccount.objects.get(user=user).source == "ldap"
    kinds = list(AccountEvent.objects.filter(user=user).values_list("kind", "source", "detail"))
    assert ("groups_changed", "ldap", "+all-staff +finance") in kinds
    assert ("signed_in", "ldap", "") in kinds


def test_the_username_is_not_case_sensitive(client, directory):
    directory.add_user("judy")
    assert sign_in(client, "Judy").status_code == 302
    client.post("/accounts/logout/")
    assert sign_in(client, "JUDY").status_code == 302
    assert list(User.objects.values_list("username", flat=True)) == ["judy"]


def test_removal_from_a_directory_group_takes_effect_at_the_next_sign_in(client, directory):
    bob = directory.add_user("bob")
    directory.add_group("finance", bob)
    assert sign_in(client, "bob").status_code == 302
    assert groups_of("bob") == {"finance"}

    directory.remove_member("finance", bob)
    client.post("/accounts/logout/")
    assert sign_in(client, "bob").status_code == 302
    assert groups_of("bob") == set()
    assert AccountEvent.objects.filter(
        kind="groups_changed", username="bob", detail="-finance"
    ).exists()


def test_the_mapping_restricts_and_renames_mirrored_groups(
    client, directory, settings, monkeypatch
):
    carol = directory.add_user("carol")
    directory.add_group("Finance", carol)
    directory.add_group("hr", carol)
    apply_signin_environment(
        settings, monkeypatch, {"KBQA_DIRECTORY_GROUPS": "finance=fin-readers"}
    )
    local = Group.objects.create(name="given-by-an-admin")
    User.objects.create_user("carol").groups.add(local)
    DirectoryAccount.objects.create(
        user=User.objects.get(username="carol"), source="ldap", subject="carol"
    )

    assert sign_in(client, "carol").status_code == 302
    # hr is not mapped; a group the directory does not manage is left alone.
    assert groups_of("carol") == {"fin-readers", "given-by-an-admin"}


def test_a_wrong_password_is_refused_and_recorded(client, directory):
    directory.add_user("dave")
    response = sign_in(client, "dave", "not-the-password")
    assert response.status_code == 200
    assert WRONG in page_text(response)
    assert not User.objects.filter(username="dave").exists()
    event = AccountEvent.objects.get(kind="sign_in_failed")
    assert (event.username, event.user) == ("dave", None)
    assert event.address == "127.0.0.1"


@pytest.mark.parametrize(
    "username",
    ["*", "e*", "erin)(uid=*", "*)(|(uid=*", "erin)(|(objectClass=*)", "erin\\", "erin*)(uid=erin"],
)
def test_filter_characters_in_the_username_match_only_themselves(client, directory, username):
    directory.add_user("erin")
    response = sign_in(client, username, PASSWORD)
    assert response.status_code == 200, f"{username!r} signed in"
    assert WRONG in page_text(response)
    assert not User.objects.exists()


def test_a_locked_directory_account_cannot_sign_in(client, directory):
    directory.add_user("frank")
    directory.lock("frank")
    response = sign_in(client, "frank")
    assert response.status_code == 200
    assert WRONG in page_text(response)
    assert not User.objects.filter(username="frank", is_active=True).exists()


def test_a_directory_that_is_down_is_named_and_local_superusers_still_sign_in(
    client, directory, settings, monkeypatch, admin_user
):
    directory.add_user("grace")
    apply_signin_environment(
        settings, monkeypatch, {"KBQA_LDAP_URI": "ldap://127.0.0.1:9", "KBQA_LDAP_TIMEOUT_S": "3"}
    )
    response = sign_in(client, "grace")
    assert response.status_code == 200
    page = page_text(response)
    assert DIRECTORY_DOWN in page and WRONG not in page
    event = AccountEvent.objects.get(kind="directory_unreachable")
    assert event.username == "grace" and "LDAP error" in event.detail
    assert "KBQA_LDAP_CA_FILE" not in event.detail  # no TLS here: no certificate to blame

    zh = page_text(
        client.post(
            "/accounts/login/",
            {"username": "grace", "password": PASSWORD},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    )
    assert "公司目录" in zh

    response = sign_in(client, "admin", "pw-for-tests")
    assert response.status_code == 302


def test_a_directory_name_does_not_take_over_a_local_account(client, directory, admin_user):
    directory.add_user("admin", password="directory-admin-pw")
    response = sign_in(client, "admin", "directory-admin-pw")
    assert response.status_code == 200
    admin_user.refresh_from_db()
    assert admin_user.is_superuser and admin_user.has_usable_password()
    assert not DirectoryAccount.objects.exists()
    event = AccountEvent.objects.get(kind="sign_in_failed")
    assert "existing local password account" in event.detail
    assert sign_in(client, "admin", "pw-for-tests").status_code == 302


def test_local_accounts_can_be_kept_for_superusers_only(
    client, directory, settings, monkeypatch, admin_user
):
    User.objects.create_user("service", password="service-local-pw")
    directory.add_user("heidi")
    apply_signin_environment(settings, monkeypatch, {"KBQA_LOCAL_ACCOUNTS": "superusers"})

    assert sign_in(client, "service", "service-local-pw").status_code == 200
    assert sign_in(client, "heidi").status_code == 302
    client.post("/accounts/logout/")
    assert sign_in(client, "admin", "pw-for-tests").status_code == 302
