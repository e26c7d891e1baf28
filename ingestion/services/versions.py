"""New versions of a document: upload one, index it beside the current one, switch in one step.

The switch is a pointer: search keeps only the chunks of `Document.current_version` (see
`ingestion.models.SEARCHABLE_CHUNKS`), and the vectors of any other version still in the index
are hidden inside the index's search (`hidden_chunk_ids`). So the new version's vectors are added
while the old version answers, one transaction moves the pointer, and only then are the old
vectors removed: every search sees exactly one version of the document, never both, never
neither. A version that fails leaves the current one answering, with the reason on the version.

Old versions keep their chunk rows (a stored answer's citation still opens its passage, marked as
replaced) and their files (downloadable) until more than `KBQA_VERSIONS_KEPT` are kept.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from infra.audit import audit
from ingestion.access import require_permission, require_readable
from ingestion.errors import Conflict, DocumentInProgress
from ingestion.models import Document, DocumentVersion
from ingestion.parsers import ParseError
from ingestion.services.ingest import (
    DocumentGone,
    document_lock,
    failures_reported,
    parse_stored,
    parsed_chunks,
    remove_version_chunks,
    replace_chunks,
)
from ingestion.services.uploads import (
    DuplicateDocument,
    clean_upload_name,
    duplicate_of,
    file_sha256,
    validate_upload_content,
    validate_upload_name,
    validate_upload_size,
)

logger = logging.getLogger(__name__)
State = DocumentVersion.Status

# Sent by name, like INGEST_TASK: the task module imports the services, never the other way round.
VERSION_TASK = "ingestion.tasks.ingest_version_task"


def version_upload(*, document: Document, file: File, by, enqueue: bool = True) -> DocumentVersion:
    """Store `file` as the next version of `document` and, unless the caller indexes it itself
    (`version_ingest`), queue its indexing; the current version answers until the new one is
    fully indexed. Uploading the version being indexed again returns it; uploading a failed or a
    replaced version's file again indexes that version again (an edit undone). Raises
    ValidationError (refused file), DuplicateDocument (identical content is stored already, in
    another document or as its current version) or Conflict (the document is still being
    ingested, or a new version of it already is)."""
    require_permission(by, "ingestion.change_document")
    require_readable(by, document)
    name = clean_upload_name(file.name or "upload")
    validate_upload_name(name)
    validate_upload_size(file.size)
    validate_upload_content(file, name)
    sha256 = file_sha256(file)
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.status in Document.IN_PROGRESS:
            raise DocumentInProgress(
                _("“%(title)s” is still being ingested; upload a new version when it is done.")
                % {"title": locked}
            )
        pending = locked.versions.filter(status=State.PENDING).first()
        if pending is not None and pending.sha256 == sha256:
            # The same upload again (a sync resumed after a crash, which may have come before
            # the task was sent): send it (again; a second run finds it indexed, or waits).
            if enqueue:
                _send(pending.pk)
            return pending
        if pending is not None:
            raise Conflict(
                _("A new version of “%(title)s” is already being indexed; wait until it is done.")
                % {"title": locked}
            )
        earlier = locked.versions.filter(
            sha256=sha256, status__in=[State.FAILED, State.REPLACED]
        ).first()
        if earlier is not None:
            # The same file again after it failed (try it again), or an edit undone (the file
            # is back to a replaced version): that version is indexed again and swapped in.
            version = earlier
            _reset(version)
        else:
            version = _create_version(locked, file, name, sha256, by)
        audit(by, "document version uploaded", locked, f"version {version.number}")
        if enqueue:
            _send(version.pk)
    return version


def _send(version_id: int) -> None:
    transaction.on_commit(lambda: current_app.send_task(VERSION_TASK, args=[version_id]))


def _create_version(document: Document, file: File, name: str, sha256: str, by):
    number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = DocumentVersion(
        document=document, number=number, sha256=sha256, size=file.size or 0, uploaded_by=by
    )
    version.file.save(name, file, save=False)
    try:
        with transaction.atomic():
            version.save()
    except IntegrityError:
        version.file.storage.delete(version.file.name)
        if DocumentVersion.objects.filter(sha256=sha256).exists():
            raise DuplicateDocument(duplicate_of(sha256)) from None
        # The same number taken by another upload of this document at the same instant (SQLite
        # has no row lock to queue the two).
        raise Conflict(
            _("A new version of “%(title)s” is already being indexed; wait until it is done.")
            % {"title": document}
        ) from None
    return version


def _reset(version: DocumentVersion) -> None:
    DocumentVersion.objects.filter(pk=version.pk).update(
        status=State.PENDING, progress=0, error="", error_code="", error_params={},
        replaced_at=None,
    )  # fmt: skip
    version.status = State.PENDING


def version_ingest(*, version_id: int, worker: str = "") -> DocumentVersion:
    """Index a pending version beside the current one, then switch to it; or fail it, leaving the
    current version answering. Safe to run again (a redelivery, a restarted worker): a version no
    longer pending is left alone, a pending one is indexed afresh, exactly once. Raises
    DocumentVersion.DoesNotExist when the version (or its document) is gone, DocumentBusy while
    the document is being ingested by another run."""
    version = DocumentVersion.objects.select_related("document").get(pk=version_id)
    document = version.document
    with document_lock(document.pk):
        version.refresh_from_db()
        if version.status == State.PENDING:
            DocumentVersion.objects.filter(pk=version.pk).update(worker=worker)
            with failures_reported(lambda error: _fail(version, error), f"version {version_id}"):
                _index_and_switch(document, version)
        versions_cleanup(document_id=document.pk)
    version.refresh_from_db()
    return version


def _index_and_switch(document: Document, version: DocumentVersion) -> None:
    parsed = parse_stored(version.file)
    specs = parsed_chunks(parsed)

    def on_progress(done: int, total: int) -> None:
        DocumentVersion.objects.filter(pk=version.pk).update(
            progress=min(99, done * 100 // max(total, 1))
        )

    replace_chunks(document, version, specs, on_progress=on_progress)
    version_switch(version, page_count=len(parsed.pages), notes="\n".join(parsed.notes))


def version_switch(version: DocumentVersion, *, page_count: int, notes: str) -> None:
    """The atomic switch: one transaction makes `version` the one search answers from."""
    now = timezone.now()
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=version.document_id).first()
        if document is None:
            raise DocumentGone(version.document_id)
        previous = document.current_version_id
        Document.objects.filter(pk=document.pk).update(
            current_version=version, file=version.file.name, sha256=version.sha256 or "",
            status=Document.Status.INDEXED, progress=100, page_count=page_count, notes=notes,
            error="", error_code="", error_params={}, updated_at=now,
        )  # fmt: skip
        DocumentVersion.objects.filter(pk=version.pk).update(
            status=State.CURRENT, progress=100, indexed_at=now, page_count=page_count, notes=notes
        )
        if previous is not None and previous != version.pk:
            DocumentVersion.objects.filter(pk=previous).update(
                status=State.REPLACED, replaced_at=now
            )
    logger.info("Document %s now answers from version %s", document.pk, version.number)


def _fail(version: DocumentVersion, error: ParseError) -> None:
    logger.warning(
        "Version %s of document %s failed: %s", version.number, version.document_id, error
    )
    remove_version_chunks(version, delete_rows=True)
    DocumentVersion.objects.filter(pk=version.pk).update(
        status=State.FAILED, progress=0, error=str(error), error_code=error.code,
        error_params=error.params,
    )  # fmt: skip


def versions_cleanup(*, document_id: int) -> None:
    """Remove the vectors of versions that no longer answer (replaced, failed: a crash may have
    left them in the index), and delete replaced versions beyond the `KBQA_VERSIONS_KEPT` newest,
    with their chunks and files. Idempotent; called after every version run."""
    for version in DocumentVersion.objects.filter(
        document_id=document_id, in_index=True, status__in=[State.REPLACED, State.FAILED]
    ):
        remove_version_chunks(version, delete_rows=version.status == State.FAILED)
    replaced = DocumentVersion.objects.filter(document_id=document_id, status=State.REPLACED)
    for version in replaced.order_by("-number")[settings.KBQA_VERSIONS_KEPT :]:
        name = version.file.name
        version.delete()
        if name and not DocumentVersion.objects.filter(file=name).exists():
            version.file.storage.delete(name)


def version_mark_failed(*, version_id: int, reason: str) -> None:
    """Give up on a version whose indexing kept failing for transient reasons: the current one
    answers, and the next upload is not blocked by a version forever pending."""
    version = DocumentVersion.objects.filter(pk=version_id, status=State.PENDING).first()
    if version is not None:
        _fail(version, ParseError(f"Gave up: {reason}", "gave_up", detail=reason))


def versions_recover_interrupted(*, worker: str) -> list[int]:
    """Re-queue the pending versions `worker` was indexing when it died (see
    `documents_recover_interrupted`)."""
    ids = list(
        DocumentVersion.objects.filter(worker=worker, status=State.PENDING).values_list(
            "pk", flat=True
        )
    )
    for version_id in ids:
        logger.warning("Re-queueing version %s interrupted on %s", version_id, worker)
        current_app.send_task(VERSION_TASK, args=[version_id])
    return ids
