"""The periodic re-check (Celery beat's `directory_recheck`) against a real slapd: group removal,
a locked or deleted account, and a directory that is down reach (or, down, do not touch) open
sessions and API tokens without anyone signing in again."""

from __future__ import annotations

import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User

from kbqa.accounts.models import AccountEvent, DirectoryAccount
from kbqa.accounts.tasks import directory_recheck
from tests.conftest import api_client, start_worker, stop_worker
from tests.kbqa.accounts.conftest import apply_signin_environment
from tests.kbqa.accounts.test_ldap import groups_of, sign_in

pytestmark = pytest.mark.django_db


def test_beat_runs_the_recheck_every_interval():
    entry = django_settings.CELERY_BEAT_SCHEDULE["directory-recheck"]
    assert entry["task"] == directory_recheck.name
    assert entry["schedule"] == 15 * 60


def test_a_group_removed_in_the_directory_is_dropped_by_the_recheck(client, directory):
    alice = directory.add_user("alice")
    directory.add_group("finance", alice)
    directory.add_group("hr", alice)
    assert sign_in(client, "alice").status_code == 302
    assert groups_of("alice") == {"finance", "hr"}

    directory.remove_member("finance", alice)
    report = directory_recheck.apply().get()
    assert report == {"checked": 1, "deactivated": 0, "skipped": 0}
    assert groups_of("alice") == {"hr"}
    assert client.get("/").status_code == 200  # still signed in, with the directory's groups
    event = AccountEvent.objects.filter(kind="groups_changed").first()
    assert (event.username, event.detail) == ("alice", "-finance")


@pytest.mark.parametrize("how", ["lock", "delete_user"])
def test_an_account_disabled_in_the_directory_loses_sessions_and_tokens(client, directory, how):
    directory.add_user("bob")
    assert sign_in(client, "bob").status_code == 302
    bob = User.objects.get(username="bob")
    token_client = api_client(bob)
    assert token_client.get("/api/v1/collections/").status_code == 200

    getattr(directory, how)("bob")
    assert directory_recheck.apply().get()["deactivated"] == 1
    bob.refresh_from_db()
    assert not bob.is_active
    assert token_client.get("/api/v1/collections/").status_code == 401
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert sign_in(client, "bob").status_code == 200
    assert AccountEvent.objects.filter(kind="deactivated", user=bob).count() == 1
    assert directory_recheck.apply().get()["deactivated"] == 0  # nothing new to record

    if how == "lock":  # unlocked in the directory: the next re-check lets bob back in
        directory.unlock("bob")
        directory_recheck.apply().get()
        bob.refresh_from_db()
        assert bob.is_active and not DirectoryAccount.objects.get(user=bob).disabled_by_directory
        assert AccountEvent.objects.filter(kind="reactivated", user=bob).exists()
        assert token_client.get("/api/v1/collections/").status_code == 200


def test_an_admins_deactivation_is_not_undone_by_the_directory(client, directory):
    directory.add_user("carol")
    assert sign_in(client, "carol").status_code == 302
    User.objects.filter(username="carol").update(is_active=False)
    directory_recheck.apply().get()
    assert not User.objects.get(username="carol").is_active
    client.post("/accounts/logout/")
    assert sign_in(client, "carol").status_code == 200


def test_a_directory_that_is_down_changes_nothing(client, directory, settings, monkeypatch):
    dave = directory.add_user("dave")
    directory.add_group("finance", dave)
    assert sign_in(client, "dave").status_code == 302
    apply_signin_environment(
        settings, monkeypatch, {"KBQA_LDAP_URI": "ldap://127.0.0.1:9", "KBQA_LDAP_TIMEOUT_S": "3"}
    )
    assert "unreachable" in directory_recheck.apply().get()
    user = User.objects.get(username="dave")
    assert user.is_active and groups_of("dave") == {"finance"}


def test_local_accounts_are_not_rechecked(directory, admin_user):
    assert directory_recheck.apply().get()["checked"] == 0
    admin_user.refresh_from_db()
    assert admin_user.is_active


@pytest.mark.django_db(transaction=True)
def test_a_worker_with_beat_rechecks_on_its_own(client, directory, tmp_path, monkeypatch):
    """bin/start's worker (`--beat`), configured from the same KBQA_LDAP_* environment, locks out a
    user the directory disabled without anyone asking it to."""
    directory.add_user("erin")
    assert sign_in(client, "erin").status_code == 302
    directory.lock("erin")
    monkeypatch.setenv("KBQA_DIRECTORY_RECHECK_MINUTES", "0.05")  # every 3 seconds
    worker = start_worker(tmp_path, broker_env={"REDIS_URL": None}, extra_args=("--beat",))
    try:
        deadline = time.monotonic() + 300
        while User.objects.get(username="erin").is_active and time.monotonic() < deadline:
            time.sleep(1)
        assert not User.objects.get(username="erin").is_active, worker.output()
        assert "directory_recheck" in worker.output()
    finally:
        stop_worker(worker)
    assert AccountEvent.objects.filter(kind="deactivated", username="erin").exists()
