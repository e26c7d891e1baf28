"""A document's lifecycle after upload: queue (or re-queue) its ingestion, rename or move it,
re-index or retry it, delete it with its chunks, vectors and file."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from infra.audit import DELETION, audit
from ingestion.access import require_permission, require_readable
from ingestion.errors import Conflict, DocumentInProgress
from ingestion.models import Collection, Document
from ingestion.services.ingest import remove_version_chunks
from retrieval.services import index_in_database, index_write

logger = logging.getLogger(__name__)
State = Document.Status

# The Celery task that ingests one document (ingestion.tasks), sent by name: the task module
# imports the services, never the other way round. (The name is the one Celery gave the task
# before, so messages queued by an older version still find it.)
INGEST_TASK = "ingestion.tasks.ingest_document_task"


def document_enqueue(*, document: Document) -> None:
    """Queue (or re-queue) ingestion after the current transaction commits."""
    document_id = document.pk
    fields = {
        "status": State.QUEUED,
        "progress": 0,
        "error": "",
        "error_code": "",
        "error_params": {},
    }
    Document.objects.filter(pk=document_id).update(**fields, updated_at=timezone.now())
    for name, value in fields.items():
        setattr(document, name, value)
    transaction.on_commit(lambda: current_app.send_task(INGEST_TASK, args=[document_id]))


def document_update(
    *, document: Document, by, title: str | None = None, collection: Collection | None = None
) -> Document:
    """Rename a document, or move it to another collection (which changes who may read it)."""
    require_permission(by, "ingestion.change_document")
    require_readable(by, document)
    changes: list[str] = []
    if title is not None and title != document.title:
        changes.append(f"title {document.title!r} → {title!r}")
        document.title = title
    if collection is not None and collection.pk != document.collection_id:
        require_readable(by, collection=collection)
        changes.append(f"collection {document.collection} → {collection}")
        document.collection = collection
    if changes:
        document.save(update_fields=["title", "collection", "updated_at"])
        audit(by, "document changed", document, "; ".join(changes))
    return document


def document_reindex(*, document: Document, by) -> Document:
    """Parse, chunk and embed again: a refresh of an indexed document or a retry of a failed one.
    Refused while an ingestion is queued or running, so one click twice queues one run."""
    require_permission(by, "ingestion.change_document")
    require_readable(by, document)
    if document.status in Document.IN_PROGRESS:
        raise DocumentInProgress(
            _("“%(title)s” is already being ingested; wait until it is done.") % {"title": document}
        )
    document_enqueue(document=document)
    audit(by, "document re-index queued", document)
    return document


def document_retry(*, document: Document, by) -> Document:
    """Re-index a document whose ingestion failed (and only such a document)."""
    if document.status != State.FAILED:
        raise Conflict(
            _("Only a failed document can be retried; “%(title)s” has not failed.")
            % {"title": document}
        )
    return document_reindex(document=document, by=by)


def document_delete(*, document: Document, by) -> None:
    """Remove a document with its chunks, vectors and stored files (every version's).

    The row is locked while its chunk ids are read and deleted. With the indexes in the database
    the vectors go in the same transaction; with the indexes on disk they are removed after the
    commit: an ingestion that swaps chunks concurrently either ran first (its chunk ids are seen
    here) or finds the document gone and removes its own vectors.
    """
    require_permission(by, "ingestion.delete_document")
    require_readable(by, document)
    in_database = index_in_database()
    with transaction.atomic():
        locked = Document.objects.select_for_update().filter(pk=document.pk).first()
        if locked is None:
            return
        audit(by, "document deleted", locked, str(locked), flag=DELETION)
        chunk_ids = list(locked.chunks.values_list("id", flat=True))
        storage = locked.file.storage
        names = {locked.file.name, *locked.versions.values_list("file", flat=True)} - {""}
        if in_database and chunk_ids:
            index_write(remove_ids=chunk_ids)
        locked.delete()

    def cleanup() -> None:
        if chunk_ids and not in_database:
            index_write(remove_ids=chunk_ids)
        for name in names:
            storage.delete(name)

    transaction.on_commit(cleanup)


def document_archive(*, document: Document) -> None:
    """Take a document out of search but keep it (its source file was removed): its vectors go,
    its rows, versions and files stay, and `document_unarchive` brings it back. The vectors go
    first: an archived document never has any, so search need not hide them."""
    for version in document.versions.filter(in_index=True):
        remove_version_chunks(version, delete_rows=False)
    document.archived_at = timezone.now()
    if Document.objects.filter(pk=document.pk).update(archived_at=document.archived_at):
        audit(None, "document archived", document)


def document_unarchive(*, document: Document, enqueue: bool = True) -> None:
    """Back into search (its source file reappeared): to be indexed again from its current
    version, its vectors having gone when it was archived (queued, unless the caller ingests it
    itself)."""
    Document.objects.filter(pk=document.pk).update(archived_at=None)
    document.archived_at = None
    if enqueue:
        document_enqueue(document=document)
    audit(None, "document restored from the archive", document)


def documents_recover_interrupted(*, worker: str) -> list[int]:
    """Re-queue documents that `worker` (a Celery node name) was ingesting when it died.

    Called when a worker starts: a node name is unique among running workers, so a document still
    marked as being parsed or embedded by this very name lost its worker. (Redis would redeliver the
    unacked message too, but only after its visibility timeout, an hour by default; the redelivery
    then re-runs an idempotent ingestion.)
    """
    documents = list(
        Document.objects.filter(worker=worker, status__in=[State.PARSING, State.EMBEDDING])
    )
    for document in documents:
        logger.warning("Re-queueing document %s interrupted on %s", document.pk, worker)
        document_enqueue(document=document)
    return [d.pk for d in documents]
