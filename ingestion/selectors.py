"""Read-side queries on documents and chunks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from ingestion.models import SEARCHABLE_CHUNKS, Chunk, Document, DocumentVersion

# The chunks of a document's current version (older versions keep theirs, out of search).
CURRENT_CHUNK_COUNT = Count("chunks", filter=Q(chunks__version_id=F("current_version_id")))


def documents_with_counts() -> QuerySet[Document]:
    return Document.objects.annotate(chunk_count=CURRENT_CHUNK_COUNT)


def chunks_by_id(ids: Iterable[int]) -> dict[int, Chunk]:
    """Chunks of indexed documents, keyed by id; ids of deleted or not yet indexed chunks, and
    of versions still being indexed, are left out."""
    return {
        chunk.pk: chunk
        for chunk in Chunk.objects.filter(
            pk__in=list(ids),
            document__status=Document.Status.INDEXED,
            document__archived_at__isnull=True,
        )
        .exclude(version__status=DocumentVersion.Status.PENDING)
        .select_related("document")
    }


def hidden_chunk_ids() -> list[int]:
    """Chunks whose vectors may be in the index although search must not return them: those of a
    version being indexed beside the current one or replaced a moment ago (its vectors not yet
    removed), and those of documents being (re-)ingested. Usually none or a few documents'
    worth, found through two partial indexes that hold only such rows
    (`version_in_index_not_current`, `document_not_indexed`): a search pays for the swaps in
    flight, not for the collection's size. (An archived document has no vectors:
    `document_archive` removes them first.)"""
    versions = set(
        DocumentVersion.objects.filter(in_index=True)
        .exclude(status=DocumentVersion.Status.CURRENT)
        .order_by()
        .values_list("pk", flat=True)
    )
    versions.update(
        Document.objects.exclude(status=Document.Status.INDEXED)
        .filter(current_version__in_index=True)
        .order_by()
        .values_list("current_version_id", flat=True)
    )
    if not versions:
        return []
    return list(Chunk.objects.filter(version__in=versions).values_list("pk", flat=True))


@dataclass(frozen=True)
class CitedVersion:
    number: int
    latest: int


def cited_version(chunk: Chunk) -> CitedVersion | None:
    """The version a chunk is of, when that is no longer the document's current one (a stored
    answer citing a revised document): what the source viewer says it cited. None otherwise."""
    if chunk.version_id == chunk.document.current_version_id:
        return None
    numbers = DocumentVersion.objects.filter(document_id=chunk.document_id).values_list(
        "number", flat=True
    )
    return CitedVersion(number=chunk.version.number, latest=max(numbers))


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
    """Compare the vector index with the searchable chunks. Chunks of documents or versions still
    being ingested (or just replaced) are neither required nor orphans: their vectors may or may
    not be there."""
    from retrieval.services import get_embedder, get_index

    index, embedder = get_index(), get_embedder()
    info = index.describe()
    vector_ids = [int(i) for i in index.ids()]
    in_index = set(vector_ids)
    indexed = set(Chunk.objects.filter(SEARCHABLE_CHUNKS).values_list("pk", flat=True))
    in_progress = set(hidden_chunk_ids())
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
