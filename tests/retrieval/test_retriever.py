"""Writing to the hybrid retriever: progress is reported from the start and in small steps, so a
long document's bar moves steadily instead of sitting at 0 % for a minute."""

from __future__ import annotations

import itertools

from retrieval.embedders.use import USEEmbedder
from retrieval.index.faiss_store import FaissIndexStore
from retrieval.lexical.bm25_store import BM25Store
from retrieval.retriever import PROGRESS_STEPS, Retriever


def test_progress_is_reported_from_zero_in_small_steps(tmp_path):
    retriever = Retriever(
        embedder=USEEmbedder(),
        vectors=FaissIndexStore(str(tmp_path / "index")),
        lexical=BM25Store(str(tmp_path / "bm25")),
    )
    texts = [f"Passage number {i} about topic {i % 7}." for i in range(130)]
    seen: list[tuple[int, int]] = []
    retriever.replace(
        remove_ids=[], add_ids=list(range(130)), texts=texts, on_progress=lambda *p: seen.append(p)
    )
    assert seen[0] == (0, 130) and seen[-1] == (130, 130)
    assert PROGRESS_STEPS / 2 <= len(seen) - 1 <= PROGRESS_STEPS
    steps = {b[0] - a[0] for a, b in itertools.pairwise(seen)}
    assert max(steps) <= 3  # 130 passages in batches of ceil(130 / 50) = 3, not 64
    assert retriever.vectors.count() == 130
