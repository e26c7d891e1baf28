"""Retrieval services: embed and store vectors, search them.

Retrieval knows chunk ids and texts, never Django models of other apps, so ingestion (which writes)
and answering (which reads) can both depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from kbqa.backends import get_backend
from retrieval.embedders.base import Embedder
from retrieval.index.base import VectorHit, VectorIndex


def get_embedder() -> Embedder:
    return get_backend("KBQA_EMBEDDER")


def get_index() -> VectorIndex:
    return get_backend("KBQA_INDEX")


def vectors_replace(
    *, remove_ids: Sequence[int], add_ids: Sequence[int], texts: Sequence[str]
) -> None:
    """Embed `texts` and swap them in for `remove_ids` as one atomic index update.

    Safe to repeat: ids already present are replaced, never stored twice.
    """
    embedder = get_embedder()
    vectors = embedder.embed_documents(texts) if texts else None
    get_index().update(
        model=embedder.name, remove_ids=list(remove_ids), add_ids=list(add_ids), vectors=vectors
    )


def vector_search(*, query: str, k: int) -> list[VectorHit]:
    embedder = get_embedder()
    return get_index().search(model=embedder.name, vector=embedder.embed_query(query), k=k)
