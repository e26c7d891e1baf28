"""Create documents from paths or bytes in tests, without queueing them."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from django.core.files import File

from ingestion.models import Document
from ingestion.services.ingest import document_ingest
from ingestion.services.uploads import document_create


def create(source: Path | bytes, name: str | None = None) -> Document:
    if isinstance(source, Path):
        with source.open("rb") as handle:
            return document_create(file=File(handle, name=name or source.name), enqueue=False)
    return document_create(file=File(BytesIO(source), name=name), enqueue=False)


def ingest(source: Path | bytes, name: str | None = None) -> Document:
    return document_ingest(document_id=create(source, name).pk)
