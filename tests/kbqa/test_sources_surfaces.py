"""Sources where admins meet them: the console's list with the last run's report and "Sync now",
and the API (`/api/v1/sources/`, `/api/v1/sources/<id>/sync/`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from ingestion.models import Collection, Source
from ingestion.services.sync import source_sync
from tests.conftest import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(tmp_path: Path) -> Source:
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "leave.txt").write_text("Annual leave. Twenty-five days per year.")
    (folder / "empty.txt").write_bytes(b"")
    return Source.objects.create(
        name="HR share",
        kind="folder",
        collection=Collection.objects.default(),
        options={"path": str(folder)},
        interval_minutes=30,
    )


def test_console_shows_the_last_report_and_queues_a_sync(
    client, admin_user, source, isolated_index
):
    client.force_login(admin_user)
    source_sync(source_id=source.pk, inline=True)
    page = client.get("/console/sources/").content.decode()
    assert "HR share" in page and "1 added" in page and "1 failed" in page
    assert "empty.txt: The file is empty" in page and "30 minutes" in page

    refresh = '<meta http-equiv="refresh"'
    assert refresh not in page  # nothing to wait for

    response = client.post(f"/console/sources/{source.pk}/sync/", follow=True)
    page = response.content.decode()
    assert "is queued" in page
    # Until a worker starts it: said so, no second click, and the page refreshes itself to show
    # the sync's counts as it runs and its report when it ends.
    assert "Queued" in page and refresh in page and "disabled>Sync now" in page
    source.refresh_from_db()
    assert source.queued_at is not None and source.waiting
    source_sync(source_id=source.pk, inline=True)
    page = client.get("/console/sources/").content.decode()
    assert refresh not in page and "Queued" not in page and "1 unchanged" in page
    chinese = client.get("/console/sources/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "立即同步" in chinese


def test_api_lists_sources_and_queues_a_sync(admin_api, source, django_user_model):
    listed = admin_api.get("/api/v1/sources/").json()
    assert [s["name"] for s in listed["results"]] == ["HR share"]
    response = admin_api.post(f"/api/v1/sources/{source.pk}/sync/")
    assert response.status_code == 202 and response.json()["queued_at"]

    viewer = django_user_model.objects.create_user("viewer", password="pw-12345678")
    viewer.user_permissions.add(Permission.objects.get(codename="view_source"))
    Collection.objects.filter(pk=source.collection_id).update(everyone=True)
    client = api_client(viewer)
    assert client.get("/api/v1/sources/").json()["count"] == 1
    refused = client.post(f"/api/v1/sources/{source.pk}/sync/")
    assert refused.status_code == 403
    assert admin_api.post("/api/v1/sources/999999/sync/").status_code == 404


def test_admin_lists_sources_and_its_action_queues_a_sync(client, admin_user, source):
    client.force_login(admin_user)
    page = client.get("/admin/ingestion/source/")
    assert page.status_code == 200 and "HR share" in page.content.decode()
    response = client.post(
        "/admin/ingestion/source/",
        {"action": "sync_now", "_selected_action": [source.pk]},
        follow=True,
    )
    assert "Queued 1 sync(s)." in response.content.decode()
    source.refresh_from_db()
    assert source.queued_at is not None


def test_admin_refuses_a_source_it_could_not_sync_and_saves_one_it_can(client, admin_user):
    """The kind and options are checked when the source is saved, not at its first sync."""
    client.force_login(admin_user)
    form = {
        "name": "IT wiki",
        "collection": Collection.objects.default().pk,
        "interval_minutes": 0,
        "on_removed": "",
        "enabled": "on",
    }
    add = "/admin/ingestion/source/add/"
    for kind, options, error in (
        ("sharepoint", "{}", "Select a valid choice"),
        ("web", '{"start_url": "ftp://intranet/wiki/"}', "Not an http(s) URL"),
        ("web", '{"url": "http://intranet/wiki/"}', "Bad options for a web source"),
        ("folder", '["/srv/docs"]', "Options are a JSON object"),
    ):
        page = client.post(add, {**form, "kind": kind, "options": options})
        assert page.status_code == 200 and error in page.content.decode(), (kind, options)
    assert not Source.objects.exists()
    options = '{"start_url": "http://intranet/wiki/index.html"}'
    assert client.post(add, {**form, "kind": "web", "options": options}).status_code == 302
    assert Source.objects.get().options == {"start_url": "http://intranet/wiki/index.html"}
