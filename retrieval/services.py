"""Retrieval services: keep the vector and BM25 indexes in step with the chunks, and search them.

Retrieval knows chunk ids and texts, never Django models of other apps, so ingestion (which writes)
and answering (which reads) can both depend on it. Filters therefore arrive as chunk ids: callers
that filter by document resolve the ids first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from celery import current_app
from django.conf import settings
from django.db.models import QuerySet
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError

from infra.backends import get_backend
from retrieval.embedders.base import Embedder
from retrieval.idsets import IdSet, as_array, intersect
from retrieval.index.base import VectorIndex
from retrieval.lexical.bm25_store import BM25Store
from retrieval.retriever import Mode, ProgressCallback, Retriever, SearchHit

logger = logging.getLogger(__name__)

__all__ = [
    "Mode",
    "SearchHit",
    "get_retriever",
    "index_embed",
    "index_in_database",
    "index_replace",
    "index_write",
    "search",
]


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
    _queue_merge_if_due(retriever)


def _queue_merge_if_due(retriever: Retriever) -> None:
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


def index_in_database() -> bool:
    """Whether both indexes live in the database, so `index_write` joins the caller's transaction
    (ingestion then embeds first and writes rows and index in one commit)."""
    return get_retriever().in_database


def index_embed(
    texts: Sequence[str], *, on_progress: ProgressCallback | None = None
) -> np.ndarray | None:
    """The vectors `index_write` stores for `texts` (seconds: call it outside any transaction)."""
    return get_retriever().embed(texts, on_progress=on_progress)


def index_write(
    *,
    remove_ids: Sequence[int],
    add_ids: Sequence[int] = (),
    texts: Sequence[str] = (),
    vectors: np.ndarray | None = None,
) -> None:
    """Swap `add_ids` (their texts and `index_embed`'s vectors) in for `remove_ids` in both
    indexes, inside the caller's transaction when they are `index_in_database`."""
    retriever = get_retriever()
    retriever.write(remove_ids=remove_ids, add_ids=add_ids, texts=texts, vectors=vectors)
    _queue_merge_if_due(retriever)


def index_rebuild(*, chunks: Iterable[tuple[int, str]], batch: int = 256, on_progress=None) -> int:
    """Re-index every chunk ((id, text) pairs) with the configured embedder: after changing
    embedders (the vector index refuses to mix models), or to repair the indexes. Returns the
    number of chunks indexed.

    Where the vector index can build beside itself (PostgreSQL), searches keep the old vectors until
    the new ones are complete and one transaction switches them; the lexical index, which does not
    depend on the embedder, is rewritten in place meanwhile (a chunk rewritten replaces its own row)
    and loses the chunks no longer there. Otherwise (files) both are emptied and refilled, and
    searches return fewer results until it finishes."""
    retriever = get_retriever()
    build = retriever.vectors.build_beside(model=retriever.embedder.name)
    if build is None:
        return _rebuild_in_place(retriever, chunks, batch, on_progress)
    seen: set[int] = set()
    try:
        for ids, texts in _batches(chunks, batch):
            build.add(ids, retriever.embed(texts))
            retriever.lexical.update(add_ids=ids, texts=texts, publish=False)
            seen.update(ids)
            if on_progress:
                on_progress(len(seen))
        build.switch()
    except BaseException:
        build.abandon()
        raise
    stale = [i for i in retriever.lexical.ids().tolist() if i not in seen]
    retriever.lexical.update(remove_ids=stale, publish=False)
    retriever.lexical.publish()
    return len(seen)


def _rebuild_in_place(
    retriever: Retriever, chunks: Iterable[tuple[int, str]], batch: int, on_progress
) -> int:
    retriever.vectors.clear()
    retriever.lexical.clear()
    done = 0
    for ids, texts in _batches(chunks, batch):
        retriever.replace(remove_ids=[], add_ids=ids, texts=texts, publish_lexical=False)
        done += len(ids)
        if on_progress:
            on_progress(done)
    retriever.lexical.publish()  # one BM25 rebuild for the whole load, not one per batch
    if hasattr(retriever.vectors, "merge"):
        retriever.vectors.merge()  # the load's last batches into the base, not left in segments
    return done


def _batches(chunks: Iterable[tuple[int, str]], size: int) -> Iterator[tuple[list[int], list[str]]]:
    ids: list[int] = []
    texts: list[str] = []
    for chunk_id, text in chunks:
        ids.append(chunk_id)
        texts.append(text)
        if len(ids) == size:
            yield ids, texts
            ids, texts = [], []
    if ids:
        yield ids, texts


def access_filter(user) -> IdSet | None:
    """Chunk ids `user` may read, from the `KBQA_ACCESS_FILTER` hook (a dotted path to a callable
    `(user) -> ids, a lazy QuerySet of them, or None for no restriction`); None when no hook is
    set. A QuerySet stays lazy: an index in the database joins it into its own query."""
    if not settings.KBQA_ACCESS_FILTER:
        return None
    allowed = import_string(settings.KBQA_ACCESS_FILTER)(user)
    return None if allowed is None else _id_set(allowed)


def _id_set(ids: IdSet | Iterable[int]) -> IdSet:
    return ids if isinstance(ids, QuerySet) else as_array(ids)


def search(
    *,
    query: str,
    k: int,
    chunk_ids: IdSet | Iterable[int] | None = None,
    excluded_ids: IdSet | Iterable[int] | None = None,
    user=None,
    mode: Mode = Mode.HYBRID,
    spread: bool = True,
) -> list[SearchHit]:
    """Hybrid search for `query`. `chunk_ids` restricts it (e.g. to some documents' chunks); the
    access-filter hook restricts it further for `user`; `excluded_ids` are never returned (chunks
    in the index that are not to answer now, such as a document's version being indexed). All are
    applied inside each index's search, before the top k is cut, so a restricted passage can never
    take a slot or leak; each may be a lazy QuerySet of ids. `spread`: see `Retriever.search`."""
    allowed = intersect(None if chunk_ids is None else _id_set(chunk_ids), access_filter(user))
    excluded = None if excluded_ids is None else _id_set(excluded_ids)
    return get_retriever().search(
        query=query, k=k, allowed_ids=allowed, excluded_ids=excluded, mode=mode, spread=spread
    )
