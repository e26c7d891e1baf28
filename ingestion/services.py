"""Ingestion services: create documents, and turn a stored file into indexed chunks.

`document_ingest` is safe to run any number of times for the same document (a Celery redelivery, a
manual re-run): it always ends with exactly one set of chunks and vectors for the document.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction

from ingestion.chunking import chunk_pages
from ingestion.models import Chunk, Document
from ingestion.parsers import SUPPORTED_SUFFIXES, ParseError, parse_file
from retrieval.services import index_replace

logger = logging.getLogger(__name__)


def file_sha256(file: File) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for block in file.chunks():
        digest.update(block)
    file.seek(0)
    return digest.hexdigest()


def validate_upload_name(name: str) -> None:
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ValidationError(
            f"Unsupported file type {suffix or '(none)'!r}; supported: "
            + ", ".join(sorted(SUPPORTED_SUFFIXES))
        )


def document_create(
    *, file: File, title: str = "", uploaded_by=None, enqueue: bool = True
) -> Document:
    """Store an upload and, unless the caller ingests it itself, queue it for ingestion once the
    row is committed."""
    name = Path(file.name or "upload").name
    validate_upload_name(name)
    document = Document(
        title=title or Path(name).stem,
        sha256=file_sha256(file),
        uploaded_by=uploaded_by,
        status=Document.Status.QUEUED,
    )
    document.file.save(name, file, save=False)
    document.save()
    if enqueue:
        document_enqueue(document=document)
    return document


def document_enqueue(*, document: Document) -> None:
    from ingestion.tasks import ingest_document_task

    document_id = document.pk
    transaction.on_commit(lambda: ingest_document_task.delay(document_id))


def document_delete(*, document: Document) -> None:
    """Remove a document with its vectors, chunks and stored file."""
    chunk_ids = list(document.chunks.values_list("id", flat=True))
    if chunk_ids:
        index_replace(remove_ids=chunk_ids, add_ids=[], texts=[])
    storage, name = document.file.storage, document.file.name
    document.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def _set_status(document: Document, status: str, error: str = "", **fields) -> None:
    document.status = status
    document.error = error
    for name, value in fields.items():
        setattr(document, name, value)
    document.save(update_fields=["status", "error", "updated_at", *fields])


def document_ingest(*, document_id: int) -> Document:
    """Parse, chunk, embed and index one document; ends `ready`, or `failed` with a reason."""
    document = Document.objects.get(pk=document_id)
    _set_status(document, Document.Status.PROCESSING)
    try:
        parsed = parse_file(Path(document.file.path), name=document.file.name)
        if parsed.text_chars == 0:
            raise ParseError(
                "No text could be extracted from any page (a scanned document without a text "
                "layer?)."
            )
        specs = chunk_pages(
            parsed.pages,
            max_chars=settings.KBQA_CHUNK_CHARS,
            overlap_chars=settings.KBQA_CHUNK_OVERLAP_CHARS,
        )
        _replace_chunks(document, specs)
    except ParseError as exc:
        _fail(document, str(exc))
    except FileNotFoundError:
        _fail(document, "The uploaded file is missing from storage; upload it again.")
    except Exception as exc:
        logger.exception("Ingestion of document %s failed", document_id)
        _fail(document, f"Ingestion failed unexpectedly: {type(exc).__name__}: {exc}")
    else:
        _set_status(document, Document.Status.READY, page_count=len(parsed.pages))
    return document


def _replace_chunks(document: Document, specs) -> None:
    """Swap the document's chunks and vectors. Old vectors go first, so whatever step a crash
    interrupts, a re-run finds only rows whose vectors it can remove and re-add: no vector is ever
    left behind without its chunk."""
    old_ids = list(document.chunks.values_list("id", flat=True))
    if old_ids:
        index_replace(remove_ids=old_ids, add_ids=[], texts=[])
    with transaction.atomic():
        document.chunks.all().delete()
        chunks = Chunk.objects.bulk_create(
            Chunk(
                document=document,
                ordinal=ordinal,
                text=spec.text,
                page=spec.page,
                page_end=spec.page_end,
                char_start=spec.char_start,
                char_end=spec.char_end,
            )
            for ordinal, spec in enumerate(specs)
        )
    index_replace(
        remove_ids=[], add_ids=[chunk.pk for chunk in chunks], texts=[c.text for c in chunks]
    )


def _fail(document: Document, reason: str) -> None:
    logger.warning("Document %s failed: %s", document.pk, reason)
    _set_status(document, Document.Status.FAILED, error=reason)
