"""Celery tasks for ingestion: thin wrappers that load by id and call one service."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.signals import worker_ready

from ingestion.models import Document
from ingestion.services.documents import INGEST_TASK, documents_recover_interrupted
from ingestion.services.ingest import TransientIngestError, document_ingest, document_mark_failed

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
        if self.request.retries >= self.max_retries:
            document_mark_failed(
                document_id=document_id, reason=f"{self.max_retries} retries, the last: {exc}"
            )
            return
        countdown = min(2 ** (self.request.retries + 1), 300) * random.uniform(0.5, 1.5)
        raise self.retry(exc=exc, countdown=countdown) from exc


@worker_ready.connect
def recover_interrupted_documents(sender=None, **kwargs) -> None:
    hostname = getattr(sender, "hostname", None)
    if hostname:
        documents_recover_interrupted(worker=hostname)
