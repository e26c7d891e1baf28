"""Fusion variants side by side on the shared evaluation sets, replayed over one set of candidate
lists: each question is embedded and searched once per side (dense top 50, BM25 top 50), then every
variant fuses the same lists, so differences are the fusion's alone (not noise, not the embedder).

    .venv/bin/python bench/fusion.py ../shared/eval/xquad-en ../shared/eval/cmrc2018-trial \\
        --embedding-cache var/eval/cache

Prints R@1 / R@5 / MRR@10 per set and variant; `current` is what `retrieval.fusion` does.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from _django import setup_throwaway_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", type=Path, nargs="+")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--embedding-cache", type=Path)
    args = parser.parse_args()

    setup_throwaway_django("kbqa-bench-fusion-")
    from retrieval import fusion
    from retrieval.evaluation.datasets import load_dataset
    from retrieval.evaluation.metrics import summarise
    from retrieval.evaluation.runner import K, throwaway_retriever
    from retrieval.fusion import FusedHit, reciprocal_rank_fusion

    def weighted(lexical_weight: Callable, dense_weight: Callable, rrf_k: int = 60) -> Callable:
        def fuse(dense, lexical, overlap):
            return reciprocal_rank_fusion(
                dense,
                lexical,
                lexical_weight=lexical_weight(overlap, lexical),
                dense_weight=dense_weight(dense),
                k=rrf_k,
            )

        return fuse

    def only(side: str) -> Callable:
        def fuse(dense, lexical, overlap):
            hits = dense if side == "dense" else lexical
            return [FusedHit(h.id, h.score) for h in hits]

        return fuse

    variants: dict[str, Callable] = {
        "dense": only("dense"),
        "bm25": only("bm25"),
        "plain rrf": weighted(lambda o, lx: 1.0, lambda d: 1.0),
        "current": weighted(fusion.lexical_weight, fusion.dense_weight),
    }

    for path in args.datasets:
        dataset = load_dataset(path, limit=args.limit)
        labels = [u.labels for u in dataset.units]
        scored = [q for q in dataset.queries if q.gold]
        with throwaway_retriever(dataset, cache_dir=args.embedding_cache) as retriever:
            depth = retriever.depth
            candidates = []
            for query in scored:
                vector = retriever.embedder.embed_query(query.question)
                dense = retriever.vectors.search(
                    model=retriever.embedder.name, vector=vector, k=depth
                )
                lexical = retriever.lexical.search(query=query.question, k=depth)
                candidates.append((query, dense, lexical.hits, lexical.script_overlap))
            print(f"\n{dataset.name} ({len(scored)} questions)")
            print(f"{'variant':<28}{'R@1':>8}{'R@5':>8}{'R@10':>8}{'MRR@10':>8}")
            for name, fuse in variants.items():
                ranked = []
                for query, dense, lexical, overlap in candidates:
                    fused = fuse(dense, lexical, overlap)
                    dense_scores = {h.id: h.score for h in dense}
                    hits = retriever._finish(query.question, fused, K, dense_scores)
                    ranked.append([labels[h.id] for h in hits])
                row = summarise(ranked, [q.gold for q in scored], [0.0])
                print(
                    f"{name:<28}{row['recall@1']:>8.3f}{row['recall@5']:>8.3f}"
                    f"{row['recall@10']:>8.3f}{row['mrr@10']:>8.3f}"
                )


if __name__ == "__main__":
    main()
