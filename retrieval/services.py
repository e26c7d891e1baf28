"""Retrieval services: keep the vector and BM25 indexes in step with the chunks, and search them.

Retrieval knows chunk ids and texts, never Django models of other apps, so ingestion (which writes)
and answering (which reads) can both depend on it. Filters therefore arrive as chunk ids: callers
that filter by document resolve the ids first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np
from celery import current_app
from django.conf import settings
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError

from infra.backends import get_backend
from retrieval.embedders.base import Embedder
from retrieval.index.base import VectorIndex
from retrieval.lexical.bm25_store import BM25Store
from retrieval.retriever import Mode, ProgressCallback, Retriever, SearchHit

logger = logging.getLogger(__name__)

__all__ = ["Mode", "SearchHit", "get_retriever", "index_replace", "search"]


def get_embedder() -> Embedder:
    return get_backend("KBQA_EMBEDDER")


def get_index() -> VectorIndex:
    return get_backend("KBQA_INDEX")


def get_lexical_index() -> BM25Store:
    return get_backend("KBQA_LEXICAL_INDEX")


def get_retriever() -> Retriever:
    reranker = get_backend("KBQA_RERANKER") if settings.KBQA_RERANKER else None
    page_keys = import_string(settings.KBQA_PAGE_KEYS) if settings.KBQA_PAGE_KEYS else None
    return Retriever(
        embedder=get_embedder(),
        vectors=get_index(),
        lexical=get_lexical_index(),
        reranker=reranker,
        page_keys=page_keys,
        **settings.KBQA_SEARCH,
    )


def index_replace(
    *,
    remove_ids: Sequence[int],
    add_ids: Sequence[int],
    texts: Sequence[str],
    on_progress: ProgressCallback | None = None,
) -> None:
    """Embed `texts` (ids `add_ids`) and swap them in for `remove_ids` in the vector and BM25
    indexes. Safe to repeat: ids already present are replaced, never stored twice. `on_progress` is
    called after each embedding batch, so long documents can report progress."""
    retriever = get_retriever()
    retriever.replace(remove_ids=remove_ids, add_ids=add_ids, texts=texts, on_progress=on_progress)
    if _merge_due(retriever):
        # By name: retrieval.tasks imports this module. The merge runs in a worker, off this write.
        try:
            current_app.send_task(MERGE_TASK)
        except OperationalError:  # the write is done; beat queues the merge later
            logger.warning("Could not queue an index merge: the broker is unreachable")


MERGE_TASK = "retrieval.tasks.merge_index_task"


def _merge_due(retriever: Retriever) -> bool:
    """Whether an index on disk has enough written since its base to merge (indexes that keep
    no segments, such as the PostgreSQL ones, have no `merge_due`)."""
    return any(
        getattr(store, "merge_due", lambda: False)()
        for store in (retriever.vectors, retriever.lexical)
    )


def index_merge() -> list[str]:
    """Fold the indexes' pending segments into new bases when due; the names of those merged.
    Idempotent: nothing to merge, or a merge already running, is a no-op."""
    retriever = get_retriever()
    merged = []
    for name, store in (("vectors", retriever.vectors), ("lexical", retriever.lexical)):
        if getattr(store, "merge_due", lambda: False)() and store.merge():
            merged.append(name)
    return merged


def index_rebuild(*, chunks: Iterable[tuple[int, str]], batch: int = 256, on_progress=None) -> int:
    """Empty both indexes and re-index `chunks` ((id, text) pairs) with the configured embedder:
    after changing embedders (the vector index refuses to mix models) or to retrain the IVF index.
    Searches return fewer results until it finishes. Returns the number of chunks indexed."""
    retriever = get_retriever()
    retriever.vectors.clear()
    retriever.lexical.clear()
    done = 0
    ids: list[int] = []
    texts: list[str] = []
    for chunk_id, text in chunks:
        ids.append(chunk_id)
        texts.append(text)
        if len(ids) == batch:
            retriever.replace(remove_ids=[], add_ids=ids, texts=texts, publish_lexical=False)
            done += len(ids)
            ids, texts = [], []
            if on_progress:
                on_progress(done)
    if ids:
        retriever.replace(remove_ids=[], add_ids=ids, texts=texts, publish_lexical=False)
        done += len(ids)
        if on_progress:
            on_progress(done)
    retriever.lexical.publish()  # one BM25 rebuild for the whole load, not one per batch
    if hasattr(retriever.vectors, "merge"):
        retriever.vectors.merge()  # the load's last batches into the base, not left in segments
    return done


def access_filter(user) -> np.ndarray | None:
    """Chunk ids `user` may read, from the `KBQA_ACCESS_FILTER` hook (a dotted path to a callable
    `(user) -> iterable of chunk ids, or None for no restriction`); None when no hook is set."""
    if not settings.KBQA_ACCESS_FILTER:
        return None
    allowed = import_string(settings.KBQA_ACCESS_FILTER)(user)
    return None if allowed is None else np.fromiter(allowed, dtype=np.int64)


def search(
    *,
    query: str,
    k: int,
    chunk_ids: Iterable[int] | None = None,
    excluded_ids: Iterable[int] | None = None,
    user=None,
    mode: Mode = Mode.HYBRID,
    spread: bool = True,
) -> list[SearchHit]:
    """Hybrid search for `query`. `chunk_ids` restricts it (e.g. to some documents' chunks); the
    access-filter hook restricts it further for `user`; `excluded_ids` are never returned (chunks
    in the index that are not to answer now, such as a document's version being indexed). All are
    applied inside each index's search, before the top k is cut, so a restricted passage can never
    take a slot or leak. `spread`: see `Retriever.search`."""
    allowed = None if chunk_ids is None else np.fromiter(chunk_ids, dtype=np.int64)
    permitted = access_filter(user)
    if permitted is not None:
        allowed = permitted if allowed is None else np.intersect1d(allowed, permitted)
    excluded = None if excluded_ids is None else np.fromiter(excluded_ids, dtype=np.int64)
    return get_retriever().search(
        query=query, k=k, allowed_ids=allowed, excluded_ids=excluded, mode=mode, spread=spread
    )
