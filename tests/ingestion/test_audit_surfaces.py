"""Every surface (REST API, console, Django admin) changes documents and collections through the
same services: the same permission check and the same audit record, exactly one per action."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from ingestion.models import Collection, Document
from tests.conftest import api_client
from tests.ingestion.helpers import create

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def document(db) -> Document:
    return create(b"# Leave\n\nEmployees get 25 days.", "leave.md")


def entries(obj):
    kind = ContentType.objects.get_for_model(obj)
    return LogEntry.objects.filter(content_type=kind, object_id=str(obj.pk))


def records(obj, action: str) -> list[LogEntry]:
    return list(entries(obj).filter(change_message__startswith=action))


def test_uploads_are_audited_from_the_api_and_the_admin(admin_api, admin_client):
    # The console uploads through the API (its page posts to POST /api/v1/documents/).
    file = SimpleUploadedFile("api.md", b"# API\n\nOne.")
    assert (
        admin_api.post("/api/v1/documents/", {"file": file}, format="multipart").status_code == 201
    )
    file = SimpleUploadedFile("admin.md", b"# Admin\n\nTwo.")
    admin_client.post("/admin/ingestion/document/add/", {"files": [file]})
    for title in ("api", "admin"):
        document = Document.objects.get(title=title)
        (record,) = records(document, "document uploaded")
        assert record.action_flag == ADDITION
        assert entries(document).count() == 1


def _via_api(admin_api, admin_client, document: Document, action: str):
    if action == "delete":
        return admin_api.delete(f"/api/v1/documents/{document.pk}/")
    return admin_api.post(f"/api/v1/documents/{document.pk}/reindex/")


def _via_console(admin_api, admin_client, document: Document, action: str):
    url = f"/console/documents/{document.pk}/{'delete' if action == 'delete' else 'reindex'}/"
    return admin_client.post(url, {"retry": "1"} if action == "retry" else {}, **JSON)


def _via_admin(admin_api, admin_client, document: Document, action: str):
    if action == "delete":
        return admin_client.post(
            f"/admin/ingestion/document/{document.pk}/delete/", {"post": "yes"}
        )
    return admin_client.post(
        "/admin/ingestion/document/", {"action": action, "_selected_action": [document.pk]}
    )


@pytest.mark.parametrize("surface", [_via_api, _via_console, _via_admin])
@pytest.mark.parametrize(
    ("action", "record"),
    [
        ("reindex", "document re-index queued"),
        ("retry", "document re-index queued"),
        ("delete", "document deleted"),
    ],
)
def test_document_changes_leave_one_record_whatever_the_surface(
    admin_api, admin_client, document, surface, action, record
):
    Document.objects.filter(pk=document.pk).update(
        status=Document.Status.FAILED if action == "retry" else Document.Status.INDEXED
    )
    document.refresh_from_db()
    response = surface(admin_api, admin_client, document, action)
    assert response.status_code < 400, response.content[:500]
    (entry,) = records(document, record)
    assert entry.action_flag == (DELETION if action == "delete" else CHANGE)
    assert entries(document).count() == 1
    assert Document.objects.filter(pk=document.pk).exists() == (action != "delete")


def test_a_document_in_progress_is_not_queued_twice_from_any_surface(
    admin_api, admin_client, document
):
    Document.objects.filter(pk=document.pk).update(status=Document.Status.EMBEDDING)
    api = admin_api.post(f"/api/v1/documents/{document.pk}/reindex/")
    console = admin_client.post(f"/console/documents/{document.pk}/reindex/", **JSON)
    for response in (api, console):
        assert response.status_code == 409
        assert "already being ingested" in response.json()["error"]["message"]
    assert not records(document, "document re-index queued")


def test_the_same_permission_check_on_every_surface(client, django_user_model, document):
    """A clerk who may upload but not delete: refused by the API, the console and the service."""
    clerk = django_user_model.objects.create_user("clerk", password="pw-12345678", is_staff=True)
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_document", "view_document"])
    )
    readers = Group.objects.create(name="readers")
    clerk.groups.add(readers)
    document.collection.reader_groups.add(readers)
    api = api_client(clerk).delete(f"/api/v1/documents/{document.pk}/")
    client.force_login(clerk)
    console = client.post(f"/console/documents/{document.pk}/delete/", **JSON)
    for response in (api, console):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert Document.objects.filter(pk=document.pk).exists()
    assert not records(document, "document deleted")


def test_collection_changes_are_audited_from_the_api(admin_api):
    created = admin_api.post(
        "/api/v1/collections/", {"name": "Legal", "reader_groups": []}, format="json"
    ).json()
    legal = Collection.objects.get(pk=created["id"])
    admin_api.patch(f"/api/v1/collections/{legal.pk}/", {"everyone": True}, format="json")
    assert admin_api.delete(f"/api/v1/collections/{legal.pk}/").status_code == 204
    assert [r.action_flag for r in records(legal, "collection created")] == [ADDITION]
    assert "everyone" in records(legal, "collection changed")[0].change_message
    (deleted,) = records(legal, "collection deleted")  # recorded with its id, not "None"
    assert deleted.action_flag == DELETION and deleted.object_repr == "Legal"


def test_collection_changes_are_audited_from_the_admin(admin_client):
    group = Group.objects.create(name="legal-team")
    admin_client.post(
        "/admin/ingestion/collection/add/",
        {"name": "Legal", "description": "", "reader_groups": [group.pk]},
    )
    legal = Collection.objects.get(name="Legal")
    assert list(legal.reader_groups.all()) == [group]
    admin_client.post(
        f"/admin/ingestion/collection/{legal.pk}/change/",
        {"name": "Legal", "description": "Contracts", "reader_groups": [], "everyone": "on"},
    )
    legal.refresh_from_db()
    assert legal.everyone and not legal.reader_groups.exists()
    admin_client.post(f"/admin/ingestion/collection/{legal.pk}/delete/", {"post": "yes"})
    assert not Collection.objects.filter(pk=legal.pk).exists()
    for action in ("collection created", "collection changed", "collection deleted"):
        assert len(records(legal, action)) == 1, action
    assert entries(legal).count() == 3


def test_a_non_empty_or_default_collection_is_refused_with_409(admin_api, document):
    for collection in (document.collection, Collection.objects.create(name="Empty later")):
        if not collection.is_default:
            Document.objects.filter(pk=document.pk).update(collection=collection)
        response = admin_api.delete(f"/api/v1/collections/{collection.pk}/")
        assert response.status_code == 409, response.content
        assert response.json()["error"]["code"] == "conflict"
        assert not records(collection, "collection deleted")
