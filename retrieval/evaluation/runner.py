"""Run a retrieval evaluation: index a dataset into a throw-away retriever, ask every question in
each mode, score the rankings."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from kbqa.backends import get_backend
from retrieval.embedders.base import Embedder
from retrieval.evaluation.cache import CachedEmbedder
from retrieval.evaluation.datasets import Dataset
from retrieval.evaluation.metrics import summarise
from retrieval.index.faiss_store import FaissIndexStore
from retrieval.lexical.bm25_store import BM25Store
from retrieval.retriever import Mode, Retriever

logger = logging.getLogger(__name__)

K = 10

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    pass


@contextmanager
def throwaway_retriever(
    dataset: Dataset,
    *,
    embedder: Embedder | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> Iterator[Retriever]:
    """A retriever configured like the app's (search settings, reranker, index options) holding
    the dataset's units, unit i under id i, in a temporary folder deleted afterwards: evaluation
    never touches the real indexes."""
    say = progress or _quiet
    embedder = embedder or get_backend("KBQA_EMBEDDER")
    if cache_dir is not None:
        embedder = CachedEmbedder(embedder, cache_dir)
    reranker = get_backend("KBQA_RERANKER") if settings.KBQA_RERANKER else None
    index_options = {k: v for k, v in settings.KBQA_INDEX.get("OPTIONS", {}).items() if k != "path"}
    with tempfile.TemporaryDirectory(prefix="kbqa-eval-") as tmp:
        retriever = Retriever(
            embedder=embedder,
            vectors=FaissIndexStore(str(Path(tmp) / "index"), **index_options),
            lexical=BM25Store(str(Path(tmp) / "bm25")),
            reranker=reranker,
            page_keys=_page_keys(dataset),
            **settings.KBQA_SEARCH,
        )
        started = time.perf_counter()
        say(f"{dataset.name}: indexing {len(dataset.units)} chunks with {embedder.name}")
        retriever.replace(
            remove_ids=[],
            add_ids=list(range(len(dataset.units))),
            texts=[u.text for u in dataset.units],
            on_progress=lambda done, total: (
                say(f"  embedded {done}/{total}") if done % 1024 == 0 or done == total else None
            ),
        )
        say(f"  indexed in {time.perf_counter() - started:.1f}s")
        yield retriever


def _page_keys(dataset: Dataset):
    """Units' (file, first page) for files of several pages, as the app's `chunk_pages` gives
    them for its documents; a passage set has no pages."""
    if dataset.kind != "files":
        return None
    paged = {u.title for u in dataset.units if u.page > 1}
    keys = {i: (u.title, u.page) for i, u in enumerate(dataset.units) if u.title in paged}
    return lambda ids: {i: keys[i] for i in ids if i in keys}


def evaluate_retrieval(
    dataset: Dataset, retriever: Retriever, *, progress: Progress | None = None
) -> dict[str, dict[str, float]]:
    """Metrics per retrieval mode over the questions that have gold units (refusal sets have none
    and are skipped; when none remain, the metrics are over zero questions (all 0.0) and only
    latencies mean anything)."""
    say = progress or _quiet
    labels = [u.labels for u in dataset.units]
    scored = [q for q in dataset.queries if q.gold]
    results = {}
    for mode in Mode:
        ranked, latencies = [], []
        for query in dataset.queries:
            begin = time.perf_counter()
            hits = retriever.search(query=query.question, k=K, mode=mode)
            latencies.append((time.perf_counter() - begin) * 1000)
            if query.gold:
                ranked.append([labels[h.id] for h in hits])
        results[mode.value] = summarise(ranked, [q.gold for q in scored], latencies)
        say(f"  {mode.value}: {results[mode.value]}")
    return results
