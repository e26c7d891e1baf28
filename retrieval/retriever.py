"""The hybrid retriever: one embedder, one vector index and one BM25 store kept in step, searched
together and fused.

Services build one from settings; `manage.py evaluate` builds a throw-away one over a temporary
directory, so evaluation runs exactly the code users get.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from retrieval.dedupe import suppress_near_duplicates
from retrieval.embedders.base import Embedder
from retrieval.fusion import (
    RRF_K,
    FusedHit,
    dense_confidence,
    lexical_confidence,
    reciprocal_rank_fusion,
)
from retrieval.idsets import IdSet, as_array
from retrieval.index.base import VectorIndex
from retrieval.lexical.bm25_store import BM25Store
from retrieval.rerankers.base import Reranker
from retrieval.spread import PageKeys, spread_over_pages

ProgressCallback = Callable[[int, int], None]  # (texts embedded so far, total)

EMBED_BATCH = 64
PROGRESS_STEPS = 50  # progress reports per write, at most: a long document's bar moves steadily


class Mode(StrEnum):
    DENSE = "dense"
    BM25 = "bm25"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class SearchHit:
    id: int  # chunk id
    score: float  # fused (or reranker) score: comparable within one result list only
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_score: float | None = None  # cosine similarity, when the dense side found it


class Retriever:
    def __init__(
        self,
        *,
        embedder: Embedder,
        vectors: VectorIndex,
        lexical: BM25Store,
        reranker: Reranker | None = None,
        depth: int = 50,
        rrf_k: int = RRF_K,
        dedupe_threshold: float | None = 0.85,
        per_page: int | None = 1,
        page_keys: PageKeys | None = None,
    ) -> None:
        """`depth`: candidates taken from each side before fusion; `dedupe_threshold`: None turns
        near-duplicate suppression off; `per_page`: chunks of one page (as `page_keys` tells)
        ranked before other pages' (see `retrieval.spread`), None for no spreading."""
        self.embedder = embedder
        self.vectors = vectors
        self.lexical = lexical
        self.reranker = reranker
        self.depth = depth
        self.rrf_k = rrf_k
        self.dedupe_threshold = dedupe_threshold
        self.per_page = per_page
        self.page_keys = page_keys

    # -- writing ----------------------------------------------------------------------------------
    @property
    def in_database(self) -> bool:
        """Both indexes write through Django's database connection, so one transaction can hold
        a document's chunk rows, vectors and lexical rows (see `ingestion.services.ingest`)."""
        return bool(getattr(self.vectors, "in_database", False)) and bool(
            getattr(self.lexical, "in_database", False)
        )

    def replace(
        self,
        *,
        remove_ids: Sequence[int],
        add_ids: Sequence[int],
        texts: Sequence[str],
        on_progress: ProgressCallback | None = None,
        publish_lexical: bool = True,
    ) -> None:
        """Embed `texts` (ids `add_ids`) and swap them in for `remove_ids` in both indexes.
        (`publish_lexical=False` defers the BM25 rebuild for bulk loads; see `BM25Store.update`.)

        Safe to repeat: ids already present are replaced, never stored twice, so a re-run after a
        crash between the two indexes brings them back in step.
        """
        vectors = self.embed(texts, on_progress=on_progress)
        self.write(
            remove_ids=remove_ids,
            add_ids=add_ids,
            texts=texts,
            vectors=vectors,
            publish_lexical=publish_lexical,
        )

    def embed(
        self, texts: Sequence[str], *, on_progress: ProgressCallback | None = None
    ) -> np.ndarray | None:
        """The texts' document vectors (None for no texts): the slow step (seconds per document),
        kept apart from `write` so a caller can embed before it opens a transaction."""
        batches = []
        step = EMBED_BATCH
        if on_progress:  # smaller batches, so the first report comes after seconds, not a minute
            step = max(1, min(EMBED_BATCH, -(-len(texts) // PROGRESS_STEPS)))
            on_progress(0, len(texts))
        for start in range(0, len(texts), step):
            batches.append(self.embedder.embed_documents(texts[start : start + step]))
            if on_progress:
                on_progress(min(start + step, len(texts)), len(texts))
        return np.concatenate(batches) if batches else None

    def write(
        self,
        *,
        remove_ids: Sequence[int],
        add_ids: Sequence[int],
        texts: Sequence[str],
        vectors: np.ndarray | None,
        publish_lexical: bool = True,
    ) -> None:
        """Swap `add_ids` (with their texts and `embed`'s vectors) in for `remove_ids` in both
        indexes. Stores `in_database` join the caller's transaction."""
        if len(add_ids) != len(texts):
            raise ValueError("add_ids and texts must have the same length")
        self.vectors.update(
            model=self.embedder.name,
            remove_ids=list(remove_ids),
            add_ids=list(add_ids),
            vectors=vectors,
        )
        self.lexical.update(
            remove_ids=remove_ids, add_ids=add_ids, texts=texts, publish=publish_lexical
        )

    # -- reading ----------------------------------------------------------------------------------
    def search(
        self,
        *,
        query: str,
        k: int,
        allowed_ids: IdSet | None = None,
        excluded_ids: IdSet | None = None,
        mode: Mode = Mode.HYBRID,
        spread: bool = True,
    ) -> list[SearchHit]:
        """The `k` best chunks for `query`, restricted to `allowed_ids` when given and never
        `excluded_ids` (inside each index's search, so the restriction never costs results; either
        may be a lazy query of ids, which an index in the database joins: `retrieval.idsets`).
        `spread=False` keeps a page's chunks together: an answer's prompt wants the best page's
        neighbouring chunks as context (with the bundled 0.5B, one chunk of the right page next to
        a lookalike page led it to the lookalike), while a result list wants distinct pages."""
        if not self.in_database:  # an index on disk reads a lazy query's ids: once for both
            allowed_ids, excluded_ids = as_array(allowed_ids), as_array(excluded_ids)
        depth = max(self.depth, 3 * k)
        dense = lexical = []
        script_overlap = 0.0
        if mode in (Mode.DENSE, Mode.HYBRID):
            vector = self.embedder.embed_query(query)
            dense = self.vectors.search(
                model=self.embedder.name,
                vector=vector,
                k=depth,
                allowed_ids=allowed_ids,
                excluded_ids=excluded_ids,
            )
        if mode in (Mode.BM25, Mode.HYBRID):
            result = self.lexical.search(
                query=query, k=depth, allowed_ids=allowed_ids, excluded_ids=excluded_ids
            )
            lexical, script_overlap = result.hits, result.script_overlap
        if mode is Mode.DENSE:
            fused = [FusedHit(h.id, h.score, dense_rank=r) for r, h in enumerate(dense, 1)]
        elif mode is Mode.BM25:
            fused = [FusedHit(h.id, h.score, lexical_rank=r) for r, h in enumerate(lexical, 1)]
        else:
            fused = reciprocal_rank_fusion(
                dense,
                lexical,
                lexical_scale=script_overlap,
                lexical_boost=lexical_confidence(lexical),
                dense_boost=dense_confidence(dense),
                k=self.rrf_k,
            )
        dense_scores = {h.id: h.score for h in dense}
        return self._finish(query, fused, k, dense_scores, spread=spread)

    def _finish(
        self,
        query: str,
        fused: list[FusedHit],
        k: int,
        dense_scores: dict[int, float],
        *,
        spread: bool = True,
    ) -> list[SearchHit]:
        """Rerank (if configured), spread over pages, drop near-duplicates, then cut to k."""
        if not fused:
            return []
        needs_text = self.reranker is not None or self.dedupe_threshold is not None
        window = fused[: max(self.reranker.top_n, 3 * k)] if self.reranker else fused[: 3 * k]
        texts = self.lexical.texts([h.id for h in window]) if needs_text else {}
        hits = [
            SearchHit(h.id, h.score, h.dense_rank, h.lexical_rank, dense_scores.get(h.id))
            for h in window
        ]
        if self.reranker is not None:
            head = [h for h in hits[: self.reranker.top_n] if h.id in texts]
            scores = self.reranker.score(query, [texts[h.id] for h in head])
            reranked = sorted(zip(scores, head, strict=True), key=lambda p: -p[0])
            hits = [
                SearchHit(h.id, s, h.dense_rank, h.lexical_rank, h.dense_score) for s, h in reranked
            ] + hits[self.reranker.top_n :]
        if spread and self.per_page and self.page_keys is not None:
            page_of = self.page_keys([h.id for h in hits])
            hits = spread_over_pages(hits, page_of, per_page=self.per_page, key=lambda h: h.id)
        if self.dedupe_threshold is None:
            return hits[:k]
        return suppress_near_duplicates(
            hits, lambda h: texts.get(h.id), threshold=self.dedupe_threshold, limit=k
        )
