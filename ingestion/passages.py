"""The knowledge base's search: retrieval's ranked chunk ids as passages of readable, indexed
documents. The search endpoint lists them as results; answering numbers them as sources."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ingestion.models import Chunk
from ingestion.selectors import chunks_by_id, hidden_chunk_ids
from retrieval.services import SearchHit, search

SWAP_ATTEMPTS = 3  # searches repeated while versions swap under them (each swap is milliseconds)


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    document_id: int
    title: str
    page: int
    page_end: int
    section: str
    text: str
    score: float  # fused (or reranker) score: comparable within one result list only
    dense_score: float | None = None  # cosine similarity, when the dense side found it
    kind: str = "text"  # or "table": Markdown rows under their header
    ocr: bool = False  # read from the page's image
    rows: str = ""  # a table passage's source rows, "12–40"
    page_label: str = ""  # the page's name where it has one (a sheet's)


def search_passages(
    *,
    query: str,
    k: int,
    user,
    document_ids: Iterable[int] | None = None,
    spread: bool = True,
) -> list[Passage]:
    """The `k` best passages for `query` among what `user` may read (`user=None`: a trusted
    in-process caller, unrestricted), optionally only in `document_ids`. `spread`: see
    `retrieval.retriever.Retriever.search`."""
    chunk_ids = None
    if document_ids is not None:
        chunk_ids = Chunk.objects.filter(document_id__in=list(document_ids)).values_list(
            "id", flat=True
        )
    hidden = set(hidden_chunk_ids())
    for _attempt in range(SWAP_ATTEMPTS):
        hits = search(
            query=query, k=k, chunk_ids=chunk_ids, excluded_ids=hidden, user=user, spread=spread
        )
        # The database (which version answers) and the indexes (which vectors exist) are read at
        # different moments: a swap in between could show both versions or neither. Every swap
        # step changes the hidden set, so an unchanged one means this search saw one state.
        now_hidden = set(hidden_chunk_ids())
        if now_hidden == hidden:
            break
        hidden = now_hidden
    return passages_of(hits)


def passages_of(hits: Iterable[SearchHit]) -> list[Passage]:
    """Hits as passages, in rank order; a chunk deleted or being re-ingested meanwhile is left
    out. (A chunk whose version was replaced since the index answered stays: the search saw
    that version, whole.)"""
    hits = list(hits)
    chunks = chunks_by_id(hit.id for hit in hits)
    passages = []
    for hit in hits:
        chunk = chunks.get(hit.id)
        if chunk is None:
            continue
        passages.append(
            Passage(
                chunk_id=chunk.pk,
                document_id=chunk.document_id,
                title=chunk.document.title or chunk.document.file.name,
                page=chunk.page,
                page_end=chunk.page_end,
                section=chunk.section or "",
                text=chunk.text,
                score=hit.score,
                dense_score=hit.dense_score,
                kind=chunk.kind,
                ocr=chunk.ocr,
                rows=chunk.rows,
                page_label=chunk.page_label,
            )
        )
    return passages
