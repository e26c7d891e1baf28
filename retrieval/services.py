"""Retrieval services: embed and store vectors, search them.

Retrieval knows chunk ids and texts, never Django models of other apps, so ingestion (which writes)
and answering (which reads) can both depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from kbqa.backends import get_backend
from retrieval.embedders.base import Embedder
from retrieval.index.base import VectorHit, VectorIndex


def get_embedder() -> Embedder:
    return get_backend("KBQA_EMBEDDER")


def get_index() -> VectorIndex:
    return get_backend("KBQA_INDEX")


ProgressCallback = Callable[[int, int], None]  # (texts embedded so far, total)

EMBED_BATCH = 64


def index_replace(
    *,
    remove_ids: Sequence[int],
    add_ids: Sequence[int],
    texts: Sequence[str],
    on_progress: ProgressCallback | None = None,
) -> None:
    """Embed `texts` (ids `add_ids`) and swap them in for `remove_ids` as one atomic index update.

    Safe to repeat: ids already present are replaced, never stored twice. `on_progress` is called
    after each embedding batch, so long documents can report progress.
    """
    embedder = get_embedder()
    batches = []
    for start in range(0, len(texts), EMBED_BATCH):
        batches.append(embedder.embed_documents(texts[start : start + EMBED_BATCH]))
        if on_progress:
            on_progress(min(start + EMBED_BATCH, len(texts)), len(texts))
    vectors = np.concatenate(batches) if batches else None
    get_index().update(
        model=embedder.name, remove_ids=list(remove_ids), add_ids=list(add_ids), vectors=vectors
    )


def index_rebuild(
    *, ids: Sequence[int], texts: Sequence[str], on_progress: ProgressCallback | None = None
) -> None:
    """Re-embed every chunk with the configured embedder and publish a fresh index in one step
    (`manage.py rebuild_index`): the way out after changing the embedding model."""
    embedder = get_embedder()
    batches = []
    for start in range(0, len(texts), EMBED_BATCH):
        batches.append(embedder.embed_documents(texts[start : start + EMBED_BATCH]))
        if on_progress:
            on_progress(min(start + EMBED_BATCH, len(texts)), len(texts))
    vectors = np.concatenate(batches) if batches else None
    get_index().rebuild(model=embedder.name, ids=list(ids), vectors=vectors)


def vector_search(*, query: str, k: int) -> list[VectorHit]:
    embedder = get_embedder()
    return get_index().search(model=embedder.name, vector=embedder.embed_query(query), k=k)
