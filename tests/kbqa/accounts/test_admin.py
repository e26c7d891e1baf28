"""The sign-in audit trail in the admin: listed and searchable, and nobody, not even a
superuser, adds, edits or deletes an event."""

from __future__ import annotations

import pytest

from kbqa.accounts.models import AccountEvent
from kbqa.accounts.services import account_event

pytestmark = pytest.mark.django_db


def test_account_events_are_listed_and_read_only(client, admin_user):
    event = account_event(
        AccountEvent.Kind.SIGN_IN_FAILED, username="mallory", detail="LDAP error: SERVER_DOWN"
    )
    client.force_login(admin_user)
    listing = client.get("/admin/accounts/accountevent/", {"q": "mallory"})
    assert listing.status_code == 200
    assert "mallory" in listing.content.decode() and "SERVER_DOWN" in listing.content.decode()
    assert client.get("/admin/accounts/accountevent/add/").status_code == 403
    assert client.post(f"/admin/accounts/accountevent/{event.pk}/delete/").status_code == 403
    change = client.post(f"/admin/accounts/accountevent/{event.pk}/change/", {"username": "x"})
    assert change.status_code in (200, 403)
    event.refresh_from_db()
    assert event.username == "mallory"
    assert client.get("/admin/accounts/directoryaccount/").status_code == 200
