from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.models import Document
from ingestion.services import ingest as ingest_service
from ingestion.services.documents import (
    document_delete,
    document_enqueue,
    documents_recover_interrupted,
)
from ingestion.services.ingest import DocumentBusy, document_ingest, document_lock
from ingestion.services.uploads import DuplicateDocument
from tests.fixtures.office import make_docx
from tests.fixtures.pdf import make_pdf
from tests.ingestion.helpers import create, ingest


def test_ingest_pdf_gives_chunks_with_pages_and_vectors(ingested_handbook, isolated_index):
    document = ingested_handbook
    document.refresh_from_db()
    assert document.updated_at > document.created_at  # indexing is a change users see
    assert document.status == Document.Status.INDEXED, document.error
    assert document.progress == 100
    assert document.page_count == 3
    chunks = list(document.chunks.all())
    assert any(c.page == 2 and "Zorblax" in c.text for c in chunks)
    assert sorted(isolated_index.ids().tolist()) == sorted(c.pk for c in chunks)


def test_states_go_uploaded_parsing_embedding_indexed(
    db, handbook_pdf, isolated_index, monkeypatch
):
    seen = []
    real = ingest_service._set_state

    def record(document, status, **fields):
        seen.append(status)
        real(document, status, **fields)

    monkeypatch.setattr(ingest_service, "_set_state", record)
    document = create(handbook_pdf)
    assert document.status == Document.Status.UPLOADED
    document_ingest(document_id=document.pk)
    assert seen == ["parsing", "embedding", "indexed"]


def test_docx_chunks_store_their_section_path(db, tmp_path: Path, isolated_index):
    document = ingest(make_docx(tmp_path / "handbook.docx"))
    assert document.status == Document.Status.INDEXED, document.error
    chunk = document.chunks.get(text__contains="25 days of annual leave")
    assert chunk.section == "3 Leave > 3.2 Annual leave"
    assert "- Book leave two weeks ahead" in chunk.text
    assert document.chunks.get(text__contains="Economy").section == "4 Travel"


def test_ingesting_again_keeps_exactly_one_set(ingested_handbook, isolated_index):
    first = sorted(ingested_handbook.chunks.values_list("text", flat=True))
    document = document_ingest(document_id=ingested_handbook.pk)
    assert document.status == Document.Status.INDEXED
    assert sorted(document.chunks.values_list("text", flat=True)) == first
    assert sorted(isolated_index.ids().tolist()) == sorted(
        document.chunks.values_list("pk", flat=True)
    )


def test_a_second_run_for_the_same_document_is_refused_while_one_runs(ingested_handbook):
    with document_lock(ingested_handbook.pk), pytest.raises(DocumentBusy):
        document_ingest(document_id=ingested_handbook.pk)


def test_identical_file_is_not_stored_twice(ingested_handbook, handbook_pdf):
    with pytest.raises(DuplicateDocument) as caught:
        create(handbook_pdf, name="copy-with-another-name.pdf")
    assert caught.value.existing == ingested_handbook
    assert Document.objects.count() == 1


def test_delete_removes_chunks_vectors_and_file(
    ingested_handbook, isolated_index, django_capture_on_commit_callbacks
):
    file_path = Path(ingested_handbook.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=ingested_handbook, by=None)
    assert isolated_index.count() == 0
    assert not Document.objects.exists()
    assert not file_path.exists()


def test_reindex_replaces_chunks_and_vectors_without_orphans(
    ingested_handbook, isolated_index, django_capture_on_commit_callbacks
):
    old_ids = set(ingested_handbook.chunks.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=False):
        document_enqueue(document=ingested_handbook)  # the task itself is not run here
    assert Document.objects.get(pk=ingested_handbook.pk).status == Document.Status.QUEUED
    document = document_ingest(document_id=ingested_handbook.pk)
    new_ids = set(document.chunks.values_list("pk", flat=True))
    assert document.status == Document.Status.INDEXED
    assert not old_ids & new_ids
    assert set(isolated_index.ids().tolist()) == new_ids


def test_failure_on_reindex_removes_the_old_chunks_and_vectors(ingested_handbook, isolated_index):
    indexed_at = ingested_handbook.updated_at
    Path(ingested_handbook.file.path).write_bytes(b"%PDF-1.4 now broken")
    document = document_ingest(document_id=ingested_handbook.pk)
    assert document.status == Document.Status.FAILED
    assert "not a readable PDF" in document.error
    assert (document.error_code, document.retryable) == ("unreadable_pdf", False)
    document.refresh_from_db()
    assert document.updated_at > indexed_at  # every state change is dated
    assert not document.chunks.exists()
    assert isolated_index.count() == 0


def test_pdf_pages_without_text_are_noted_on_the_document(db, tmp_path: Path, isolated_index):
    document = ingest(make_pdf(tmp_path / "partly-blank.pdf", [["Readable page one."], []]))
    assert document.status == Document.Status.INDEXED
    assert document.notes == "page 2 has no text, not even by OCR"
    assert (document.ocr_total, document.ocr_done) == (1, 1)


def test_worker_start_requeues_its_interrupted_documents(
    ingested_handbook, django_capture_on_commit_callbacks
):
    Document.objects.filter(pk=ingested_handbook.pk).update(
        status=Document.Status.EMBEDDING, worker="celery@a"
    )
    with django_capture_on_commit_callbacks(execute=False):
        assert documents_recover_interrupted(worker="celery@b") == []
        assert documents_recover_interrupted(worker="celery@a") == [ingested_handbook.pk]
    assert Document.objects.get(pk=ingested_handbook.pk).status == Document.Status.QUEUED


def test_chunks_are_found_by_their_document_title_and_section(db, isolated_index):
    # Neither passage names its company; only the file names do. The context header indexed with
    # each chunk (title › section) is what lets "AMCOR" find the right one, before and after a
    # rebuild of the indexes from the database.
    from ingestion.services.ingest import index_rebuild_from_database
    from retrieval.services import Mode, search

    body = "# Results of operations\n\nNet sales were {} billion in the fiscal year.\n"
    amcor = ingest(body.format("14.7").encode(), "AMCOR_2023_10K.md")
    boeing = ingest(body.format("66.6").encode(), "BOEING_2022_10K.md")
    assert "AMCOR" not in amcor.chunks.get().text
    for _ in range(2):
        for company, document in (("AMCOR", amcor), ("Boeing", boeing)):
            hits = search(query=f"{company} net sales", k=2, mode=Mode.BM25)
            assert hits[0].id == document.chunks.get().pk
        index_rebuild_from_database()
