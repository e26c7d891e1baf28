"""Run an evaluation: index a set into a throw-away retriever (the app's own configuration, in a
temporary folder), then ask every question in each retrieval mode and score the rankings, and with
answers on, answer every question through the real pipeline and score the answers."""

from __future__ import annotations

import json
import logging
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from infra.backends import get_backend
from ingestion.passages import Passage
from kbqa.evaluation.answer_metrics import evaluate_answers
from kbqa.evaluation.cache import CachedEmbedder
from kbqa.evaluation.datasets import Dataset
from kbqa.evaluation.ranking_metrics import summarise
from llm.answer import Citation
from llm.pipeline import Retrieve, answer_question
from retrieval.embedders.base import Embedder
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
    the dataset's units, unit i under id i, in a temporary folder (or, for the back ends in the
    database, a throw-away namespace of tables) deleted afterwards: evaluation never touches the
    real indexes."""
    say = progress or _quiet
    embedder = embedder or get_backend("KBQA_EMBEDDER")
    if cache_dir is not None:
        embedder = CachedEmbedder(embedder, cache_dir)
    reranker = get_backend("KBQA_RERANKER") if settings.KBQA_RERANKER else None
    with tempfile.TemporaryDirectory(prefix="kbqa-eval-") as tmp:
        namespace = f"kbqa_eval_{uuid.uuid4().hex[:12]}"
        vectors = _throwaway_store("KBQA_INDEX", Path(tmp) / "index", namespace)
        lexical = _throwaway_store("KBQA_LEXICAL_INDEX", Path(tmp) / "bm25", namespace)
        try:
            retriever = Retriever(
                embedder=embedder,
                vectors=vectors,
                lexical=lexical,
                reranker=reranker,
                page_keys=_page_keys(dataset),
                **settings.KBQA_SEARCH,
            )
            yield _filled(retriever, dataset, say)
        finally:
            for store in (vectors, lexical):
                if store.in_database:
                    store.drop()


def _throwaway_store(setting: str, folder: Path, namespace: str):
    """The configured back end of `setting` with its options, over `folder` (files) or in a
    throw-away `namespace` of tables (a back end `in_database`), never the app's own index."""
    config = getattr(settings, setting)
    backend = import_string(config["BACKEND"])
    options = dict(config.get("OPTIONS", {}))
    if getattr(backend, "in_database", False):
        options["namespace"] = namespace
    else:
        options["path"] = str(folder)
    return backend(**options)


def _filled(retriever: Retriever, dataset: Dataset, say: Progress) -> Retriever:
    """The dataset's units indexed, unit i under id i."""
    embedder = retriever.embedder
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
    return retriever


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


def dataset_retrieve(dataset: Dataset, retriever: Retriever) -> Retrieve:
    """Hybrid search over the throw-away index as answering searches (not spread over pages),
    with hits shaped as the knowledge base's citations (unit i is chunk i; units of one file share
    a document id)."""
    document_ids: dict[str, int] = {}
    for unit in dataset.units:
        document_ids.setdefault(unit.title, len(document_ids) + 1)

    def retrieve(question: str, k: int) -> list[Passage]:
        hits = retriever.search(query=question, k=k, mode=Mode.HYBRID, spread=False)
        return [
            Passage(
                chunk_id=hit.id,
                document_id=document_ids[unit.title],
                title=unit.title,
                page=unit.page,
                page_end=unit.page,
                section=unit.section,
                text=unit.text,
                score=hit.score,
                dense_score=hit.dense_score,
            )
            for hit in hits
            for unit in [dataset.units[hit.id]]
        ]

    return retrieve


def evaluate_dataset_answers(
    dataset: Dataset,
    retriever: Retriever,
    *,
    progress: Progress | None = None,
    mode: str | None = None,
) -> dict:
    """The `"answers"` object of `evaluate --answers`, plus `top_scores`: the best passage's dense
    score per question, answerable and not, the figures to set KBQA_MIN_RETRIEVAL_SCORE by.
    `mode`: the answer mode ("focused", "classic"; settings.KBQA_ANSWER_MODE by default)."""
    search = dataset_retrieve(dataset, retriever)
    by_question = {q.question: q for q in dataset.queries}
    best_scores: list[float] = []
    top_scores: dict[bool, list[float]] = {True: [], False: []}

    def retrieve(question: str, k: int) -> list[Passage]:
        found = search(question, k)
        best_scores.append(max((p.dense_score or 0.0 for p in found), default=0.0))
        return found

    def answer_fn(question: str) -> dict:
        result = answer_question(question, user=None, retrieve=retrieve, mode=mode)
        query = by_question[question]
        top_scores[query.answerable].append(best_scores[-1])
        if progress:
            cited = sorted({label for c in result.citations for label in _labels(dataset, c)})
            progress(
                json.dumps(
                    {
                        "q": question,
                        "mode": mode or settings.KBQA_ANSWER_MODE,
                        "refused": result.refused,
                        "answer": result.answer[:160],
                        "cited": cited,
                        "gold": sorted(map(str, query.gold)),
                    },
                    ensure_ascii=False,
                )
            )
        return asdict(result)

    queries = [
        {
            "question": q.question,
            "answers": list(q.answers),
            "answerable": q.answerable,
            "gold_ids": list(q.gold),
        }
        for q in dataset.queries
    ]
    figures = evaluate_answers(
        queries,
        answer_fn,
        citation_keys=lambda citation: dataset.units[citation["chunk_id"]].labels,
    )
    figures["top_scores"] = {
        ("answerable" if answerable else "unanswerable"): _spread(scores)
        for answerable, scores in top_scores.items()
        if scores
    }
    return figures


def _labels(dataset: Dataset, citation: Citation) -> list[str]:
    return [str(label) for label in dataset.units[citation.chunk_id].labels]


def _spread(scores: list[float]) -> dict[str, float]:
    return {
        "min": round(min(scores), 4),
        "p50": round(statistics.median(scores), 4),
        "max": round(max(scores), 4),
    }
