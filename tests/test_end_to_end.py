"""The whole real path: upload -> Celery worker process -> FAISS -> local LLM -> cited answer.

Runs on whichever database the run uses (bin/test runs the suite on SQLite and on PostgreSQL).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files import File
from kombu import Connection

from ingestion.models import Document
from ingestion.services.uploads import document_create
from ingestion.tasks import ingest_document_task
from tests.conftest import start_worker, stop_worker, wait_for_status

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def upload(client, path: Path) -> int:
    with path.open("rb") as handle:
        response = client.post("/api/v1/documents/", {"file": handle}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "queued"
    return response.json()["id"]


def test_real_pdf_upload_to_cited_answer(redis_worker, admin_api, shared_docs: Path):
    document_id = upload(admin_api, shared_docs / "en" / "fhs-3.0.pdf")
    status = wait_for_status(admin_api, document_id)
    assert status["status"] == "indexed", (status, redis_worker.output())
    assert status["page_count"] == 50
    assert status["chunk_count"] > 50

    response = admin_api.post(
        "/api/v1/ask/",
        {"question": "Which directory contains mount points for removable media such as cdroms?"},
        format="json",
    )
    data = response.json()
    assert response.status_code == 200
    assert data["refused"] is False, data
    # Page 19 holds "3.11. /media : Mount point for removable media"; the citation must lead there.
    assert any(
        c["document_id"] == document_id and c["page"] == 19 and "/media" in c["text"]
        for c in data["citations"]
    ), data


def test_corrupt_pdf_fails_with_a_message_and_the_worker_keeps_going(
    redis_worker, admin_api, shared_docs: Path, handbook_pdf: Path
):
    bad = upload(admin_api, shared_docs / "hostile" / "malformed_invalid_not_a_pdf.pdf")
    good = upload(admin_api, handbook_pdf)
    bad_status = wait_for_status(admin_api, bad)
    assert bad_status["status"] == "failed"
    assert "not a readable PDF" in bad_status["error"]
    assert wait_for_status(admin_api, good)["status"] == "indexed"
    assert redis_worker.process.poll() is None


def test_file_system_broker_needs_no_server(tmp_path: Path, handbook_pdf: Path):
    """The embedded default (bin/start): kombu's file-system transport between two processes."""
    worker = start_worker(tmp_path, broker_env={"REDIS_URL": None})
    try:
        with handbook_pdf.open("rb") as handle:
            document = document_create(file=File(handle, name=handbook_pdf.name), enqueue=False)
        with Connection(
            "filesystem://",
            transport_options=settings.FILESYSTEM_BROKER_OPTIONS,
        ) as connection:
            ingest_document_task.apply_async(
                (document.pk,), connection=connection, queue=settings.CELERY_TASK_DEFAULT_QUEUE
            )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            document.refresh_from_db()
            if document.status in (Document.Status.INDEXED, Document.Status.FAILED):
                break
            time.sleep(0.5)
        assert document.status == Document.Status.INDEXED, (document.error, worker.output())
        assert document.chunks.filter(page=2, text__contains="Zorblax").exists()
    finally:
        stop_worker(worker)
