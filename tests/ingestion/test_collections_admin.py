"""Collections in the admin: readers set by group, uploads into a chosen collection, actions
audited, and a collection holding documents (or the default one) cannot be deleted."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from ingestion.models import Collection, Document

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_create_a_collection_and_upload_into_it(admin_client):
    group = Group.objects.create(name="legal-team")
    response = admin_client.post(
        "/admin/ingestion/collection/add/",
        {"name": "Legal", "description": "", "reader_groups": [group.pk]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    legal = Collection.objects.get(name="Legal")
    assert list(legal.reader_groups.all()) == [group] and legal.everyone is False

    upload = SimpleUploadedFile("nda.md", b"# NDA\n\nSecret.")
    admin_client.post("/admin/ingestion/document/add/", {"files": [upload], "collection": legal.pk})
    document = Document.objects.get(title="nda")
    assert document.collection == legal
    assert LogEntry.objects.filter(
        object_id=str(document.pk), change_message__startswith="document uploaded"
    ).exists()

    listing = admin_client.get("/admin/ingestion/collection/").content.decode()
    assert "legal-team" in listing
    assert admin_client.get(f"/admin/ingestion/collection/{legal.pk}/delete/").status_code == 403
    default = Collection.objects.default()
    assert admin_client.get(f"/admin/ingestion/collection/{default.pk}/delete/").status_code == 403


def test_staff_see_only_documents_they_may_read_in_the_admin(client, django_user_model):
    from django.contrib.auth.models import Permission

    staff = django_user_model.objects.create_user("clerk", password="pw-12345678", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_document", "view_conversation"])
    )
    legal = Collection.objects.create(name="Legal")
    hidden = Document.objects.create(title="Merger plan", sha256="2" * 64, collection=legal)
    client.force_login(staff)
    listing = client.get("/admin/ingestion/document/")
    assert listing.status_code == 200 and "Merger plan" not in listing.content.decode()
    assert client.get(f"/admin/ingestion/document/{hidden.pk}/change/").status_code in (302, 404)
    assert client.get("/admin/chat/conversation/").status_code == 403
