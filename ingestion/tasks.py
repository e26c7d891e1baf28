"""Celery tasks for ingestion: thin wrappers that load by id and call one service."""

from __future__ import annotations

import logging

from celery import shared_task

from ingestion.models import Document
from ingestion.services import document_ingest

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def ingest_document_task(document_id: int) -> None:
    try:
        document_ingest(document_id=document_id)
    except Document.DoesNotExist:
        logger.info("Document %s was deleted before ingestion; nothing to do", document_id)
