"""Read-side queries on documents and chunks."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, QuerySet

from ingestion.models import Chunk, Document


def documents_with_counts() -> QuerySet[Document]:
    return Document.objects.annotate(chunk_count=Count("chunks"))


def chunks_by_id(ids: Iterable[int]) -> dict[int, Chunk]:
    """Chunks of ready documents, keyed by id; ids of deleted or unready chunks are left out."""
    return {
        chunk.pk: chunk
        for chunk in Chunk.objects.filter(
            pk__in=list(ids), document__status=Document.Status.READY
        ).select_related("document")
    }
