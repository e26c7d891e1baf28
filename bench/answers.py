"""Answer quality on a sample of a shared evaluation set, through the real pipeline.

Ingests the set's passage corpus into a throw-away data directory (one chunk per passage, bulk
written, one index update), answers the first N questions with `llm.services.answer_question` and
prints `llm.evaluation.evaluate_answers`' figures, plus the top retrieval score of answerable and
unanswerable questions: the numbers to recalibrate KBQA_MIN_RETRIEVAL_SCORE by.

    .venv/bin/python bench/answers.py ../shared/eval/xquad-en --limit 20
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from pathlib import Path

from _django import setup_throwaway_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()

    setup_throwaway_django("kbqa-bench-answers-")
    from ingestion.models import Chunk, Document
    from llm.evaluation import evaluate_answers
    from llm.services import _retrieve, answer_question
    from retrieval.services import index_replace

    passages = [json.loads(line) for line in (args.dataset / "corpus.jsonl").open(encoding="utf-8")]
    queries = [
        json.loads(line) for line in (args.dataset / "queries.jsonl").open(encoding="utf-8")
    ][: args.limit]

    started = time.perf_counter()
    indexed = Document.Status.INDEXED
    documents = Document.objects.bulk_create(
        Document(
            title=p["title"] or p["id"],
            file=f"eval/{p['id']}.txt",
            sha256=hashlib.sha256(p["text"].encode()).hexdigest(),
            status=indexed,
        )
        for p in passages
    )
    chunks = Chunk.objects.bulk_create(
        Chunk(
            document=d,
            ordinal=0,
            text=p["text"],
            page=1,
            page_end=1,
            char_start=0,
            char_end=len(p["text"]),
        )
        for d, p in zip(documents, passages, strict=True)
    )
    index_replace(remove_ids=[], add_ids=[c.pk for c in chunks], texts=[c.text for c in chunks])
    passage_of_chunk = {c.pk: p["id"] for c, p in zip(chunks, passages, strict=True)}
    print(f"ingested {len(chunks)} passages in {time.perf_counter() - started:.1f}s")

    def answer_fn(question: str) -> dict:
        result = answer_question(question, user=None).as_dict()
        for citation in result["citations"]:
            citation["passage_id"] = passage_of_chunk.get(citation["chunk_id"])
        print(
            json.dumps(
                {
                    "q": question,
                    "refused": result["refused"],
                    "answer": result["answer"][:160],
                    "cited": [c["passage_id"] for c in result["citations"]],
                },
                ensure_ascii=False,
            ),
            flush=True,
        )
        return result

    figures = evaluate_answers(queries, answer_fn)
    top_scores = {True: [], False: []}
    for query in queries:
        hits = _retrieve(query["question"], 1)
        top_scores[bool(query.get("answerable", True))].append(hits[0].score if hits else 0.0)
    for answerable, scores in top_scores.items():
        if scores:
            print(
                f"top-1 retrieval score, {'answerable' if answerable else 'unanswerable'}: "
                f"min {min(scores):.3f} p50 {statistics.median(scores):.3f} max {max(scores):.3f}"
            )
    print(json.dumps({"dataset": args.dataset.name, "n": len(queries), "answers": figures}))


if __name__ == "__main__":
    main()
