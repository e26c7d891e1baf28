"""Keep a collection in step with a source: new file → new document, changed content → new
version, removed → deleted (or archived), and a report of what each run did.

Incremental: an entry whose stamp (modification time and size) is the one recorded is unchanged
without being read; otherwise its content hash decides. A renamed file (same content, its old
path gone) keeps its document. Idempotent and resumable: each entry's outcome is recorded with
the run's counts in one transaction, so a run killed midway and started again skips what it
already did (its counts carry on) and ends with exactly the documents the source holds: a
document created but not yet recorded is recognised by its content and adopted, a version
uploaded but not yet recorded is picked up where it is.

`inline=True` (the command line) ingests each new document and version before going on; else
they are queued for the workers, and the report counts what the sync saw and queued.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from infra.audit import audit
from infra.locks import exclusive
from ingestion.access import require_permission
from ingestion.errors import Conflict
from ingestion.models import Collection, Document, DocumentVersion, Source, SourceItem
from ingestion.services.documents import (
    document_archive,
    document_delete,
    document_enqueue,
    document_unarchive,
)
from ingestion.services.ingest import TransientIngestError, document_ingest
from ingestion.services.uploads import DuplicateDocument, document_create, file_sha256
from ingestion.services.versions import version_ingest, version_upload
from ingestion.sources import Entry, SourceBackend, SourceError, backend_for

logger = logging.getLogger(__name__)

# Sent by name, like INGEST_TASK: the task module imports the services, never the other way round.
SYNC_TASK = "ingestion.tasks.sync_source_task"

OUTCOMES = ("added", "updated", "removed", "unchanged", "failed")
MAX_FAILURES_REPORTED = 100
UNCHANGED_BATCH = 500  # unchanged entries recorded per transaction


class SourceBusy(Exception):
    """Another sync of the same source is running."""


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)  # {"key", "error"}
    error: str = ""  # the source itself could not be read: nothing was changed

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in OUTCOMES}

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SyncReport:
        known = {k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def fail(self, key: str, error: str) -> None:
        self.failed += 1
        if len(self.failures) < MAX_FAILURES_REPORTED:
            self.failures.append({"key": key, "error": error})


@contextmanager
def source_lock(source_id: int) -> Iterator[None]:
    """One sync of a source at a time, on every machine (infra.locks.exclusive)."""
    with exclusive(f"source-{source_id}", SourceBusy(f"Source {source_id} is being synced")):
        yield


def source_sync(*, source_id: int, inline: bool = False, worker: str = "") -> SyncReport:
    """Run (or resume) one sync of the source; returns its report, also stored on the source.
    Raises Source.DoesNotExist, SourceBusy (another run holds it)."""
    with source_lock(source_id):
        source = Source.objects.select_related("collection").get(pk=source_id)
        report = _begin(source, worker)
        try:
            _Sync(source, report, inline=inline).run()
        except SourceError as exc:
            logger.warning("Source %s could not be read: %s", source, exc)
            report.error = str(exc)
        now = timezone.now()
        Source.objects.filter(pk=source.pk).update(
            running_since=None, worker="", progress={}, last_finished_at=now,
            last_report=report.as_dict(),
        )  # fmt: skip
        logger.info("Synced source %s: %s", source, report.counts())
    return report


def _begin(source: Source, worker: str) -> SyncReport:
    """A new run, or the interrupted one again (its counts so far carry on)."""
    now = timezone.now()
    if source.running_since is not None:
        logger.warning("Resuming the interrupted sync %s of source %s", source.run, source)
        report = SyncReport.from_dict(source.progress)
        Source.objects.filter(pk=source.pk).update(worker=worker)
    else:
        report = SyncReport()
        source.run += 1
        Source.objects.filter(pk=source.pk).update(
            run=source.run, running_since=now, last_started_at=now, worker=worker,
            progress=report.as_dict(),
        )  # fmt: skip
    return report


class _Sync:
    def __init__(self, source: Source, report: SyncReport, *, inline: bool) -> None:
        self.source = source
        self.report = report
        self.inline = inline
        self.run_number = source.run
        self.backend: SourceBackend = backend_for(source.kind, source.options)
        self.items = {i.key: i for i in source.items.select_related("document")}
        self.unchanged: list[SourceItem] = []

    def run(self) -> None:
        entries = list(self.backend.entries())  # all of it first: a rename needs the full list
        self.present = {entry.key for entry in entries}
        for entry in entries:
            item = self.items.get(entry.key)
            if item is not None and item.synced_in == self.run_number:
                continue  # done before this run was interrupted
            if self._unchanged_by_stamp(entry, item):
                self.unchanged.append(item)
                if len(self.unchanged) >= UNCHANGED_BATCH:
                    self._flush_unchanged()
                continue
            self._flush_unchanged()
            if entry.error:
                self._record_failure(entry, item, entry.error)
            else:
                self._take(entry, item)
        self._flush_unchanged()
        for key, item in list(self.items.items()):
            if key not in self.present and item.synced_in != self.run_number:
                self._remove(item)

    # -- recording ---------------------------------------------------------------------------
    def _save_progress(self) -> None:
        Source.objects.filter(pk=self.source.pk).update(progress=self.report.as_dict())

    def _flush_unchanged(self) -> None:
        if not self.unchanged:
            return
        with transaction.atomic():
            SourceItem.objects.filter(pk__in=[i.pk for i in self.unchanged]).update(
                synced_in=self.run_number
            )
            self.report.unchanged += len(self.unchanged)
            self._save_progress()
        self.unchanged = []

    def _record(
        self, entry: Entry, outcome: str, *, document: Document, sha256: str, error: str = ""
    ) -> None:
        """The entry's item and the run's counts, in one transaction (`error`: taken, but its
        document or version failed, counted as failed)."""
        with transaction.atomic():
            item, _ = SourceItem.objects.update_or_create(
                source=self.source,
                key=entry.key,
                defaults={
                    "document": document,
                    "sha256": sha256,
                    "stamp": entry.stamp,
                    "error": error,
                    "synced_in": self.run_number,
                },
            )
            if error:
                self.report.fail(entry.key, error)
            else:
                setattr(self.report, outcome, getattr(self.report, outcome) + 1)
            self._save_progress()
        self.items[entry.key] = item

    def _record_failure(self, entry: Entry, item: SourceItem | None, error: str) -> None:
        """Counted as failed; the item keeps its last good hash and stamp, so the next sync
        tries again."""
        logger.warning("Source %s: %s failed: %s", self.source, entry.key, error)
        with transaction.atomic():
            if item is not None:
                SourceItem.objects.filter(pk=item.pk).update(error=error, synced_in=self.run_number)
                item.error = error
            self.report.fail(entry.key, error)
            self._save_progress()

    # -- one entry ---------------------------------------------------------------------------
    def _unchanged_by_stamp(self, entry: Entry, item: SourceItem | None) -> bool:
        if item is None or item.document is None or item.error or not entry.stamp:
            return False
        if item.stamp != entry.stamp:
            return False
        self._ensure_ingested(item.document)
        return True

    def _take(self, entry: Entry, item: SourceItem | None) -> None:
        try:
            with self.backend.open(entry) as handle:
                file = File(handle, name=entry.name)
                sha256 = file_sha256(file)
                if item is not None and item.document is not None and item.sha256 == sha256:
                    self._ensure_ingested(item.document)
                    self._record(entry, "unchanged", document=item.document, sha256=sha256)
                elif item is not None and item.document is not None:
                    self._new_version(entry, item, file, sha256)
                else:
                    self._new_document(entry, item, file, sha256)
        except OSError as exc:
            self._record_failure(entry, item, f"Could not be read: {exc}")
        except ValidationError as exc:
            self._record_failure(entry, item, " ".join(exc.messages))
        except (Conflict, TransientIngestError) as exc:
            self._record_failure(entry, item, f"{exc} (tried again at the next sync)")

    def _new_version(self, entry: Entry, item: SourceItem, file: File, sha256: str) -> None:
        document = item.document
        try:
            version = version_upload(document=document, file=file, by=None, enqueue=not self.inline)
        except DuplicateDocument as exc:
            if exc.existing == document:
                where = "an earlier version of it"
            else:
                where = self._twin(exc.existing)
            self._record_failure(entry, item, f"Its new content is identical to {where}.")
            return
        error = ""
        if self.inline:
            version = version_ingest(version_id=version.pk)
            if version.status == DocumentVersion.Status.FAILED:
                error = version.failure
        self._record(entry, "updated", document=document, sha256=sha256, error=error)

    def _new_document(self, entry: Entry, item: SourceItem | None, file: File, sha256: str):
        try:
            document = document_create(
                file=file,
                title=entry.title or Path(entry.name).stem,
                collection=self.source.collection,
                enqueue=not self.inline,
            )
            outcome = "added"
        except DuplicateDocument as exc:
            document = exc.existing
            moved = self._moved_from(document)
            if moved is not None:
                self._rename(moved, entry, sha256)
                return
            if not self._adoptable(document):
                self._record_failure(entry, item, f"Identical to {self._twin(document)}.")
                return
            outcome = "added"  # made by this sync before it was interrupted, or by hand here
            if not self.inline and document.status == Document.Status.QUEUED:
                # Killed between queueing it and sending the message, perhaps: send it (again;
                # a second ingestion of the same document changes nothing).
                document_enqueue(document=document)
            if document.archived_at is not None:
                document_unarchive(document=document, enqueue=not self.inline)
                if self.inline:
                    document_ingest(document_id=document.pk)
                outcome = "updated"
        self._ensure_ingested(document)
        document.refresh_from_db()
        error = document.failure if document.status == Document.Status.FAILED else ""
        self._record(entry, outcome, document=document, sha256=sha256, error=error)

    def _moved_from(self, document: Document) -> SourceItem | None:
        """The item of this source that held `document` under a path that is gone: a rename."""
        for item in self.items.values():
            if item.document_id == document.pk and item.key not in self.present:
                return item
        return None

    def _twin(self, document: Document) -> str:
        """A stored twin as the report names it: the report is read by those who read the
        source's collection, so a document of another collection stays unnamed."""
        if document.collection_id == self.source.collection_id:
            return f"document {document.pk} (“{document}”)"
        return "a document in another collection"

    def _adoptable(self, document: Document) -> bool:
        return document.collection_id == self.source.collection_id and not any(
            item.document_id == document.pk for item in self.items.values()
        )

    def _rename(self, item: SourceItem, entry: Entry, sha256: str) -> None:
        old_key = item.key
        with transaction.atomic():
            SourceItem.objects.filter(source=self.source, key=entry.key).exclude(
                pk=item.pk
            ).delete()
            item.key, item.sha256, item.stamp = entry.key, sha256, entry.stamp
            item.error, item.synced_in = "", self.run_number
            item.save()
            document = item.document
            if document.title == Path(old_key).stem:
                Document.objects.filter(pk=document.pk).update(title=Path(entry.name).stem)
            self.report.updated += 1
            self._save_progress()
        del self.items[old_key]
        self.items[entry.key] = item

    def _ensure_ingested(self, document: Document) -> None:
        """Inline: ingest a document not (or not completely) ingested yet, such as one whose
        ingestion this sync started before it was killed. Queued: queue one never queued."""
        if document.status == Document.Status.INDEXED:
            return
        if self.inline and document.status != Document.Status.FAILED:
            document_ingest(document_id=document.pk)
        elif not self.inline and document.status == Document.Status.UPLOADED:
            document_enqueue(document=document)

    def _remove(self, item: SourceItem) -> None:
        document = item.document
        with transaction.atomic():
            if document is not None:
                if self._on_removed() == Source.OnRemoved.ARCHIVE:
                    document_archive(document=document)
                else:
                    document_delete(document=document, by=None)
                self.report.removed += 1
            item.delete()
            self._save_progress()
        del self.items[item.key]

    def _on_removed(self) -> str:
        return self.source.on_removed or settings.KBQA_SYNC_REMOVED


def source_sync_queue(*, source: Source, by) -> None:
    """Queue a sync of `source` for a worker ("Sync now"); audited."""
    require_permission(by, "ingestion.change_source")
    _queue(source)
    audit(by, "source sync queued", source)


def _queue(source: Source) -> None:
    source.queued_at = timezone.now()
    Source.objects.filter(pk=source.pk).update(queued_at=source.queued_at)
    source_id = source.pk
    transaction.on_commit(lambda: current_app.send_task(SYNC_TASK, args=[source_id]))


def sources_queue_due(*, now=None) -> list[int]:
    """Queue every enabled source whose interval has passed since its last sync was queued or
    started (Celery beat calls this every minute); a running one is left to finish."""
    now = now or timezone.now()
    due = []
    for source in Source.objects.filter(enabled=True, interval_minutes__gt=0, running_since=None):
        last = max(filter(None, [source.queued_at, source.last_started_at]), default=None)
        if last is None or last + timedelta(minutes=source.interval_minutes) <= now:
            _queue(source)
            due.append(source.pk)
    return due


def sources_recover_interrupted(*, worker: str) -> list[int]:
    """Re-queue the syncs `worker` was running when it died; they resume where they stopped."""
    ids = list(
        Source.objects.filter(worker=worker, running_since__isnull=False).values_list(
            "pk", flat=True
        )
    )
    for source_id in ids:
        logger.warning("Re-queueing the interrupted sync of source %s on %s", source_id, worker)
        current_app.send_task(SYNC_TASK, args=[source_id])
    return ids


def source_for_folder(*, path: str, collection_name: str) -> Source:
    """The folder source of `path` (absolute, resolved), created with its collection if there is
    none: what `manage.py sync_folder` syncs."""
    root = str(Path(path).expanduser().resolve())
    source = Source.objects.filter(kind="folder", options__path=root).order_by("pk").first()
    if source is not None:
        return source
    with transaction.atomic():
        collection, _ = Collection.objects.get_or_create(name=collection_name)
        name = root if not Source.objects.filter(name=root).exists() else f"{root} ({collection})"
        return Source.objects.create(
            name=name, kind="folder", collection=collection, options={"path": root}
        )
