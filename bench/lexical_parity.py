"""Lexical parity on the evaluation sets: the PostgreSQL BM25 store against bm25s (`BM25Store`).

Each passage set in `../shared/eval` is indexed by both stores (one chunk per passage, as
`manage.py evaluate` indexes it); every question is searched at the retriever's depth (k=50).
Printed per set: lexical MRR@10 against the gold passages for both, how many questions got the
same top 10 ids in the same order (and up to ties: where ids differ, their scores are equal), the
largest score difference of a chunk in both lists. Identical lexical rankings make the hybrid
ranking identical too (fusion sees ranks and scores).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kbqa python bench/lexical_parity.py
    DATABASE_URL=... python bench/lexical_parity.py --sets xquad-zh hotpotqa-100
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from lexical_postgres import setup_django  # noqa: E402


def mrr(ranked: list[int], gold: set[int]) -> float:
    return next((1 / r for r, i in enumerate(ranked[:10], 1) if i in gold), 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--sets", nargs="*", help="set names (default: every passage set)")
    parser.add_argument("--k", type=int, default=50)
    args = parser.parse_args()
    setup_django()
    from kbqa.evaluation.datasets import load_dataset
    from retrieval.lexical.bm25_store import BM25Store
    from retrieval.lexical.postgres_store import PostgresBM25Store

    names = args.sets or sorted(
        p.name for p in args.eval.iterdir() if (p / "corpus.jsonl").exists()
    )
    print(
        f"{'set':<20} {'chunks':>7} {'questions':>9} {'MRR bm25s':>9} {'MRR pg':>7} "
        f"{'same top10':>10} {'up to ties':>10} {'max |Δscore|':>12} {'pg ms/q':>8}"
    )
    for name in names:
        dataset = load_dataset(args.eval / name)
        ids = list(range(1, len(dataset.units) + 1))
        labels = {i: u.labels for i, u in zip(ids, dataset.units, strict=True)}
        texts = [u.text for u in dataset.units]
        with tempfile.TemporaryDirectory() as folder:
            reference = BM25Store(folder)
            reference.update(add_ids=ids, texts=texts)
            store = PostgresBM25Store(namespace="bench_parity")
            store.drop()
            for start in range(0, len(ids), 2000):
                store.update(add_ids=ids[start : start + 2000], texts=texts[start : start + 2000])
            same = tied = 0
            worst = 0.0
            ours_mrr = theirs_mrr = 0.0
            elapsed = 0.0
            for query in dataset.queries:
                theirs = reference.search(query=query.question, k=args.k).hits
                started = time.perf_counter()
                ours = store.search(query=query.question, k=args.k).hits
                elapsed += time.perf_counter() - started
                gold = {i for i in ids if labels[i] & query.gold}
                theirs_mrr += mrr([h.id for h in theirs], gold)
                ours_mrr += mrr([h.id for h in ours], gold)
                same += [h.id for h in ours[:10]] == [h.id for h in theirs[:10]]
                tied += all(
                    a.id == b.id or abs(a.score - b.score) <= 1e-5 * b.score
                    for a, b in zip(ours[:10], theirs[:10], strict=False)
                ) and len(ours[:10]) == len(theirs[:10])
                score = {h.id: h.score for h in theirs}
                worst = max([worst, *(abs(h.score - score[h.id]) for h in ours if h.id in score)])
            store.drop()
        n = len(dataset.queries)
        print(
            f"{name:<20} {len(ids):>7} {n:>9} {theirs_mrr / n:>9.4f} {ours_mrr / n:>7.4f} "
            f"{same:>6}/{n:<3} {tied:>6}/{n:<3} {worst:>12.2e} {elapsed / n * 1000:>8.1f}"
        )


if __name__ == "__main__":
    main()
