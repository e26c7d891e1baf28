from __future__ import annotations

from pathlib import Path

from django.core.files import File

from ingestion.models import Document
from ingestion.services import document_create, document_delete, document_ingest


def test_ingest_pdf_gives_chunks_with_pages_and_vectors(ingested_handbook, isolated_index):
    document = ingested_handbook
    assert document.status == Document.Status.INDEXED, document.error
    assert document.page_count == 3
    chunks = list(document.chunks.all())
    assert chunks
    assert any(c.page == 2 and "Zorblax" in c.text for c in chunks)
    assert sorted(isolated_index.ids().tolist()) == sorted(c.pk for c in chunks)


def test_ingesting_again_keeps_exactly_one_set(ingested_handbook, isolated_index):
    first = sorted(ingested_handbook.chunks.values_list("text", flat=True))
    document = document_ingest(document_id=ingested_handbook.pk)
    assert document.status == Document.Status.INDEXED
    assert sorted(document.chunks.values_list("text", flat=True)) == first
    assert sorted(isolated_index.ids().tolist()) == sorted(
        document.chunks.values_list("pk", flat=True)
    )


def test_delete_removes_chunks_and_vectors(
    ingested_handbook, isolated_index, django_capture_on_commit_callbacks
):
    file_path = Path(ingested_handbook.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=ingested_handbook)
    assert isolated_index.count() == 0
    assert not Document.objects.exists()
    assert not file_path.exists()


def test_corrupt_pdf_ends_failed_with_reason(db, tmp_path: Path, isolated_index):
    path = tmp_path / "corrupt.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntruncated")
    with path.open("rb") as handle:
        document = document_create(file=File(handle, name=path.name), enqueue=False)
    document = document_ingest(document_id=document.pk)
    assert document.status == Document.Status.FAILED
    assert "not a readable PDF" in document.error
    assert not document.chunks.exists()
    assert isolated_index.count() == 0


def test_pdf_without_text_fails_and_says_why(db, tmp_path: Path, isolated_index):
    from tests.fixtures.pdf import make_pdf

    path = make_pdf(tmp_path / "blank.pdf", [[], []])
    with path.open("rb") as handle:
        document = document_create(file=File(handle, name=path.name), enqueue=False)
    document = document_ingest(document_id=document.pk)
    assert document.status == Document.Status.FAILED
    assert "No text could be extracted" in document.error
