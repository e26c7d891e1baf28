"""Read-side queries on documents and chunks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from ingestion.models import Chunk, Document


def documents_with_counts() -> QuerySet[Document]:
    return Document.objects.annotate(chunk_count=Count("chunks"))


def chunks_by_id(ids: Iterable[int]) -> dict[int, Chunk]:
    """Chunks of indexed documents, keyed by id; ids of deleted or not yet indexed chunks are left
    out."""
    return {
        chunk.pk: chunk
        for chunk in Chunk.objects.filter(
            pk__in=list(ids), document__status=Document.Status.INDEXED
        ).select_related("document")
    }


@dataclass
class IndexReport:
    version: int
    index_model: str | None
    index_dimension: int | None
    vector_count: int
    embedder_model: str
    embedder_dimension: int
    chunk_count: int
    chunks_without_vectors: list[int]
    vectors_without_chunks: list[int]
    duplicate_vectors: int

    def problems(self) -> list[str]:
        problems = []
        if self.index_model is not None and (
            self.index_model != self.embedder_model
            or self.index_dimension != self.embedder_dimension
        ):
            problems.append(
                f"model mismatch: the index holds {self.index_model} ({self.index_dimension} "
                f"dims), the embedder is {self.embedder_model} ({self.embedder_dimension} dims)"
            )
        if self.chunks_without_vectors:
            problems.append(
                f"{len(self.chunks_without_vectors)} chunk(s) without vectors, e.g. ids "
                f"{self.chunks_without_vectors[:10]}"
            )
        if self.vectors_without_chunks:
            problems.append(
                f"{len(self.vectors_without_chunks)} vector(s) without chunks, e.g. ids "
                f"{self.vectors_without_chunks[:10]}"
            )
        if self.duplicate_vectors:
            problems.append(f"{self.duplicate_vectors} chunk id(s) stored more than once")
        return problems


def chunk_pages(ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(document id, page) of each chunk of a multi-page document, the pages search spreads its
    results over. Chunks of unpaged documents (text, Word, one-page PDFs) are left out: all their
    chunks say page 1, and spreading over that would bury a long text file's second-best chunk."""
    rows = Chunk.objects.filter(pk__in=list(ids), document__page_count__gt=1)
    return {
        pk: (document, page) for pk, document, page in rows.values_list("pk", "document_id", "page")
    }


def index_consistency() -> IndexReport:
    """Compare the vector index with the chunks of indexed documents. Chunks of documents still
    being ingested are neither required nor orphans: their vectors may or may not be there yet."""
    from retrieval.services import get_embedder, get_index

    index, embedder = get_index(), get_embedder()
    info = index.describe()
    vector_ids = [int(i) for i in index.ids()]
    in_index = set(vector_ids)
    indexed = set(
        Chunk.objects.filter(document__status=Document.Status.INDEXED).values_list("pk", flat=True)
    )
    in_progress = set(
        Chunk.objects.filter(document__status__in=Document.IN_PROGRESS).values_list("pk", flat=True)
    )
    return IndexReport(
        version=info["version"],
        index_model=info["model"],
        index_dimension=info["dimension"],
        vector_count=info["count"],
        embedder_model=embedder.name,
        embedder_dimension=embedder.dimension,
        chunk_count=len(indexed),
        chunks_without_vectors=sorted(indexed - in_index),
        vectors_without_chunks=sorted(in_index - indexed - in_progress),
        duplicate_vectors=len(vector_ids) - len(in_index),
    )
