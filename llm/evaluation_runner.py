"""Answer quality on an evaluation set: the real answering pipeline (prompt, model, citation
check, refusal gate) over the dataset's throw-away retriever, scored by `llm.evaluation`."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable

from llm.evaluation import evaluate_answers
from llm.services import Citation, Retrieve, answer_question
from retrieval.evaluation.datasets import Dataset
from retrieval.retriever import Mode, Retriever

Progress = Callable[[str], None]


def dataset_retrieve(dataset: Dataset, retriever: Retriever) -> Retrieve:
    """Hybrid search over the throw-away index as answering searches (not spread over pages),
    with hits shaped as the knowledge base's citations (unit i is chunk i; units of one file share
    a document id)."""
    document_ids: dict[str, int] = {}
    for unit in dataset.units:
        document_ids.setdefault(unit.title, len(document_ids) + 1)

    def retrieve(question: str, k: int) -> list[Citation]:
        hits = retriever.search(query=question, k=k, mode=Mode.HYBRID, spread=False)
        found = []
        for n, hit in enumerate(hits, start=1):
            unit = dataset.units[hit.id]
            found.append(
                Citation(
                    n=n,
                    document_id=document_ids[unit.title],
                    title=unit.title,
                    page=unit.page,
                    chunk_id=hit.id,
                    text=unit.text,
                    section=unit.section,
                    score=hit.dense_score or 0.0,
                )
            )
        return found

    return retrieve


def evaluate_dataset_answers(
    dataset: Dataset, retriever: Retriever, *, progress: Progress | None = None
) -> dict:
    """The `"answers"` object of `evaluate --answers`, plus `top_scores`: the best passage's dense
    score per question, answerable and not, the figures to set KBQA_MIN_RETRIEVAL_SCORE by."""
    search = dataset_retrieve(dataset, retriever)
    by_question = {q.question: q for q in dataset.queries}
    best_scores: list[float] = []
    top_scores: dict[bool, list[float]] = {True: [], False: []}

    def retrieve(question: str, k: int) -> list[Citation]:
        found = search(question, k)
        best_scores.append(max((c.score for c in found), default=0.0))
        return found

    def answer_fn(question: str) -> dict:
        result = answer_question(question, user=None, retrieve=retrieve)
        query = by_question[question]
        top_scores[query.answerable].append(best_scores[-1])
        if progress:
            cited = sorted({label for c in result.citations for label in _labels(dataset, c)})
            progress(
                json.dumps(
                    {
                        "q": question,
                        "refused": result.refused,
                        "answer": result.answer[:160],
                        "cited": cited,
                        "gold": sorted(map(str, query.gold)),
                    },
                    ensure_ascii=False,
                )
            )
        return result.as_dict()

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
