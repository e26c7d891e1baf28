"""Document versions where people meet them: the API (`/api/v1/documents/<id>/versions/`), the
console's version list with its upload form and downloads, and the source viewer's note on a
citation of a replaced version."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ingestion.models import DocumentVersion
from ingestion.services.versions import version_ingest
from tests.ingestion.helpers import ingest

pytestmark = pytest.mark.django_db

V1 = b"Opening hours. The canteen opens at 7:45 on weekdays."
V2 = b"Opening hours. The canteen opens at 8:15 on weekdays."


def _post_version(client, document_id: int, content: bytes, name: str = "hours.txt"):
    upload = SimpleUploadedFile(name, content)
    return client.post(
        f"/api/v1/documents/{document_id}/versions/", {"file": upload}, format="multipart"
    )


def test_api_uploads_lists_and_refuses_versions(admin_api, isolated_index, admin_user):
    document = ingest(V1, "hours.txt")
    response = _post_version(admin_api, document.pk, V2)
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["number"], body["status"], body["uploaded_by"]) == (2, "pending", "admin")

    busy = _post_version(admin_api, document.pk, V2 + b" Closed on Sundays.")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "conflict"

    version_ingest(version_id=body["id"])
    listed = admin_api.get(f"/api/v1/documents/{document.pk}/versions/").json()
    assert [(v["number"], v["status"]) for v in listed] == [(2, "current"), (1, "replaced")]
    assert admin_api.get(f"/api/v1/documents/{document.pk}/").json()["version"] == 2

    duplicate = _post_version(admin_api, document.pk, V2)  # the current version's content
    assert duplicate.status_code == 409
    body = duplicate.json()
    assert body["error"]["code"] == "duplicate" and body["document"]["id"] == document.pk

    refused = _post_version(admin_api, document.pk, b"MZ\x90\x00", name="tool.exe")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid"
    missing = _post_version(admin_api, 999999, V2)
    assert missing.status_code == 404


def test_api_version_upload_needs_the_change_permission(django_user_model, isolated_index):
    from django.contrib.auth.models import Permission

    from tests.conftest import api_client

    document = ingest(V1, "hours.txt")
    clerk = django_user_model.objects.create_user("clerk", password="pw-12345678")
    clerk.user_permissions.add(Permission.objects.get(codename="add_document"))
    document.collection.everyone = True
    document.collection.save()
    response = _post_version(api_client(clerk), document.pk, V2)
    assert response.status_code == 403
    assert document.versions.count() == 1


def test_console_lists_versions_uploads_one_and_downloads_each(client, admin_user, isolated_index):
    client.force_login(admin_user)
    document = ingest(V1, "hours.txt")
    page = client.get(f"/console/documents/{document.pk}/versions/")
    assert page.status_code == 200
    assert 'data-version="1"' in page.content.decode()

    upload = SimpleUploadedFile("hours-v2.txt", V2)
    posted = client.post(f"/console/documents/{document.pk}/versions/", {"file": upload})
    assert posted.status_code == 302
    version = document.versions.get(number=2)
    assert version.status == DocumentVersion.Status.PENDING and version.uploaded_by == admin_user
    version_ingest(version_id=version.pk)

    page = client.get(f"/console/documents/{document.pk}/versions/").content.decode()
    assert 'data-version="2"' in page and "Replaced" in page and "admin" in page
    chinese = client.get(
        f"/console/documents/{document.pk}/versions/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "上传新版本" in chinese and "已替换" in chinese
    old = client.get(f"/documents/{document.pk}/versions/1/download/")
    assert b"".join(old.streaming_content) == V1
    current = client.get(f"/documents/{document.pk}/download/")
    assert b"".join(current.streaming_content) == V2

    again = client.post(
        f"/console/documents/{document.pk}/versions/",
        {"file": SimpleUploadedFile("copy.txt", V2)},
        follow=True,
    )
    assert "Identical to a version of" in again.content.decode()


def test_source_viewer_says_a_citation_is_of_a_replaced_version(client, admin_user, isolated_index):
    client.force_login(admin_user)
    document = ingest(V1, "hours.txt")
    cited = document.chunks.get()
    upload = SimpleUploadedFile("hours-v2.txt", V2)
    client.post(f"/console/documents/{document.pk}/versions/", {"file": upload})
    version_ingest(version_id=document.versions.get(number=2).pk)

    panel = client.get(f"/sources/{cited.pk}/").content.decode()
    assert "Cited version 1 of 2, since replaced." in panel
    assert "7:45" in panel
    assert f"/documents/{document.pk}/versions/1/download/" in panel
    current = document.versions.get(number=2).chunks.get()
    assert "since replaced" not in client.get(f"/sources/{current.pk}/").content.decode()


def test_the_document_list_says_a_new_version_failed_and_the_old_one_answers(
    client, admin_user, isolated_index
):
    client.force_login(admin_user)
    document = ingest(V1, "hours.txt")
    client.post(
        f"/console/documents/{document.pk}/versions/",
        {"file": SimpleUploadedFile("hours.txt", b" \n \n")},
    )
    page = client.get("/console/documents/").content.decode()
    assert "Version 2 is being indexed (0%)." in page
    version_ingest(version_id=document.versions.get(number=2).pk)
    page = client.get("/console/documents/").content.decode()
    assert "Version 2 failed: The file contains no text." in page
    assert "The current one still answers." in page


def test_a_duplicate_version_never_names_a_document_the_uploader_cannot_read(
    client, django_user_model, isolated_index
):
    from django.contrib.auth.models import Group, Permission

    from ingestion.models import Collection

    secret = ingest(b"Board minutes. The merger with Acme closes in May.", "board.txt")
    secret.title = "Board minutes: merger"
    secret.save()
    editors = Group.objects.create(name="editors")
    handbook = Collection.objects.create(name="Handbook")
    handbook.reader_groups.add(editors)
    document = ingest(V1, "hours.txt")
    document.collection = handbook
    document.save()
    editor = django_user_model.objects.create_user("editor", password="pw-12345678")
    editor.groups.add(editors)
    editor.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_document", "change_document"])
    )
    client.force_login(editor)

    page = client.post(
        f"/console/documents/{document.pk}/versions/",
        {"file": SimpleUploadedFile("hours.txt", secret.file.read())},
        follow=True,
    ).content.decode()
    assert "already stored" in page
    assert "Board minutes" not in page and "merger" not in page
    assert document.versions.count() == 1
