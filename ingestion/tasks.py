"""Celery tasks for ingestion: thin wrappers that load by id and call one service."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.signals import worker_ready

from ingestion.models import Document, DocumentVersion, Source
from ingestion.services.documents import INGEST_TASK, documents_recover_interrupted
from ingestion.services.ingest import TransientIngestError, document_ingest, document_mark_failed
from ingestion.services.sync import (
    SYNC_TASK,
    SourceBusy,
    source_sync,
    sources_queue_due,
    sources_recover_interrupted,
)
from ingestion.services.versions import (
    VERSION_TASK,
    version_ingest,
    version_mark_failed,
    versions_recover_interrupted,
)

logger = logging.getLogger(__name__)

MAX_RETRIES = 8


@shared_task(
    name=INGEST_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES
)
def ingest_document_task(self, document_id: int) -> None:
    """Retries only transient errors (document busy in another run, database blip), with
    exponential backoff and jitter; a bad file is a permanent `failed` state, never retried."""
    try:
        document_ingest(document_id=document_id, worker=self.request.hostname or "")
    except Document.DoesNotExist:
        logger.info("Document %s was deleted before ingestion; nothing to do", document_id)
    except TransientIngestError as exc:
        _retry_or_give_up(
            self, exc, lambda reason: document_mark_failed(document_id=document_id, reason=reason)
        )


@shared_task(
    name=VERSION_TASK,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def ingest_version_task(self, version_id: int) -> None:
    """Index a new version beside the current one and switch to it (same retry rules as above)."""
    try:
        version_ingest(version_id=version_id, worker=self.request.hostname or "")
    except DocumentVersion.DoesNotExist:
        logger.info("Version %s was deleted before indexing; nothing to do", version_id)
    except TransientIngestError as exc:
        _retry_or_give_up(
            self, exc, lambda reason: version_mark_failed(version_id=version_id, reason=reason)
        )


def _retry_or_give_up(task, exc: Exception, give_up) -> None:
    """Retry later, or after the last retry `give_up(reason)`."""
    if task.request.retries >= task.max_retries:
        give_up(f"{task.max_retries} retries, the last: {exc}")
        return
    raise task.retry(exc=exc, countdown=_backoff(task.request.retries)) from exc


def _backoff(retries: int) -> float:
    """Exponential, capped at five minutes, with jitter."""
    return min(2 ** (retries + 1), 300) * random.uniform(0.5, 1.5)


@shared_task(
    name=SYNC_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES
)
def sync_source_task(self, source_id: int) -> None:
    """Sync one source, queueing its new documents and versions for ingestion. A redelivery (or a
    re-queue after the worker died) resumes the interrupted run; a sync already running elsewhere
    makes this one wait and try again."""
    try:
        source_sync(source_id=source_id, worker=self.request.hostname or "")
    except Source.DoesNotExist:
        logger.info("Source %s was deleted; nothing to sync", source_id)
    except SourceBusy as exc:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
        logger.warning("Gave up waiting for source %s: %s", source_id, exc)


@shared_task(name="ingestion.tasks.sync_due_sources_task")
def sync_due_sources_task() -> None:
    """Celery beat's every-minute tick: queue the sources whose interval has passed."""
    sources_queue_due()


@worker_ready.connect
def recover_interrupted_documents(sender=None, **kwargs) -> None:
    hostname = getattr(sender, "hostname", None)
    if hostname:
        documents_recover_interrupted(worker=hostname)
        versions_recover_interrupted(worker=hostname)
        sources_recover_interrupted(worker=hostname)
