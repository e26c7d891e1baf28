"""The documents admin: bulk upload, live list with progress, retry / re-index / delete."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ingestion.models import Document

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/ingestion/document/"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_upload_several_files_and_a_zip(admin_client, handbook_pdf: Path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("leave.md", "# Leave\n\n25 days.")
    files = [
        SimpleUploadedFile("handbook.pdf", handbook_pdf.read_bytes()),
        SimpleUploadedFile("bundle.zip", archive.getvalue()),
        SimpleUploadedFile("again.pdf", handbook_pdf.read_bytes()),
        SimpleUploadedFile("tool.exe", b"MZ"),
    ]
    response = admin_client.post(f"{CHANGELIST}add/", {"files": files}, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Queued 2 document(s)" in text
    first = Document.objects.get(title="handbook")
    assert f"gain.pdf is identical to document {first.pk}" in text
    assert "ool.exe: Unsupported file type" in text
    assert set(Document.objects.values_list("status", flat=True)) == {"queued"}


def test_list_shows_state_progress_error_and_refreshes_while_busy(admin_client, admin_user):
    Document.objects.create(title="busy", sha256="a" * 64, status="embedding", progress=42)
    Document.objects.create(title="bad", sha256="b" * 64, status="failed", error="Bad PDF here")
    text = admin_client.get(CHANGELIST).content.decode()
    assert '<progress max="100" value="42"' in text
    assert "Bad PDF here" in text and "Embedding" in text
    assert 'http-equiv="refresh"' in text
    Document.objects.filter(title="busy").update(status="indexed")
    assert 'http-equiv="refresh"' not in admin_client.get(CHANGELIST).content.decode()


def test_retry_and_reindex_actions_queue_the_right_documents(admin_client):
    failed = Document.objects.create(title="f", sha256="c" * 64, status="failed", error="x")
    indexed = Document.objects.create(title="i", sha256="d" * 64, status="indexed")
    busy = Document.objects.create(title="b", sha256="e" * 64, status="parsing")
    ids = [str(d.pk) for d in (failed, indexed, busy)]
    admin_client.post(CHANGELIST, {"action": "retry", "_selected_action": ids})
    assert Document.objects.get(pk=failed.pk).status == "queued"
    assert Document.objects.get(pk=indexed.pk).status == "indexed"
    admin_client.post(CHANGELIST, {"action": "reindex", "_selected_action": ids})
    assert Document.objects.get(pk=indexed.pk).status == "queued"
    assert Document.objects.get(pk=busy.pk).status == "parsing"  # never two runs at once


def test_delete_action_removes_chunks_and_vectors(
    admin_client, ingested_handbook, isolated_index, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            CHANGELIST,
            {
                "action": "delete_selected",
                "_selected_action": [ingested_handbook.pk],
                "post": "yes",
            },
        )
    assert not Document.objects.exists()
    assert isolated_index.count() == 0
