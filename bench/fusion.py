"""Fusion variants side by side on the shared evaluation sets, replayed over one set of candidate
lists: each question is embedded and searched once per side (dense top 50, BM25 top 50), then every
variant fuses the same lists, so differences are the fusion's alone (not noise, not the embedder).

    .venv/bin/python bench/fusion.py ../shared/eval/xquad-en ../shared/eval/cmrc2018-trial \\
        --embedding-cache var/eval/cache

Prints R@1 / R@5 / R@10 / MRR@10 per set and variant; "(current)" marks what `retrieval.fusion`
does with the default settings. Every variant ends as a search does (spread over pages, dedupe).
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
    from kbqa.evaluation.datasets import load_dataset
    from kbqa.evaluation.ranking_metrics import summarise
    from kbqa.evaluation.runner import K, throwaway_retriever
    from retrieval import fusion
    from retrieval.fusion import FusedHit
    from retrieval.spread import spread_over_pages

    def fused(
        rrf_k: int,
        cap: float = fusion.CONFIDENCE_CAP,
        whole_list: bool = False,
        lexical_weight: float = 1.0,
        unsure_lexical: float | None = None,
    ):
        """The module's fusion with another k, cap or weight of the BM25 list; `whole_list` applies
        each list's boost to every hit of it (the fusion before 2026-11-23) instead of its first
        hit only; `unsure_lexical` scales the BM25 list down when its first hit's boost is below
        it (an unsure BM25 list counts for less)."""

        def fuse(dense, lexical, overlap):
            overlap *= lexical_weight
            lexical_boost = min(cap, fusion.lexical_confidence(lexical))
            if unsure_lexical is not None:
                overlap *= min(1.0, lexical_boost / unsure_lexical)
            dense_boost = min(cap, fusion.dense_confidence(dense))
            if not whole_list:
                return fusion.reciprocal_rank_fusion(
                    dense,
                    lexical,
                    lexical_scale=overlap,
                    lexical_boost=lexical_boost,
                    dense_boost=dense_boost,
                    k=rrf_k,
                )
            hits: dict[int, FusedHit] = {}
            for side, scale in ((dense, dense_boost), (lexical, overlap * lexical_boost)):
                for rank, hit in enumerate(side if scale > 0 else [], start=1):
                    hits.setdefault(hit.id, FusedHit(hit.id, 0.0)).score += scale / (rrf_k + rank)
            return sorted(hits.values(), key=lambda h: (-h.score, h.id))

        return fuse

    def only(side: str) -> Callable:
        def fuse(dense, lexical, overlap):
            hits = dense if side == "dense" else lexical
            return [FusedHit(h.id, h.score) for h in hits]

        return fuse

    def presorted(fuse: Callable) -> Callable:
        """`fuse` over each side's list spread over pages first, so that ranks count pages."""

        def spread_fuse(dense, lexical, overlap):
            if retriever.page_keys is None:
                return fuse(dense, lexical, overlap)
            sides = []
            for side in (dense, lexical):
                page_of = retriever.page_keys([h.id for h in side])
                sides.append(spread_over_pages(side, page_of, per_page=1, key=lambda h: h.id))
            return fuse(*sides, overlap)

        return spread_fuse

    def plain(dense, lexical, overlap):
        return fusion.reciprocal_rank_fusion(dense, lexical, k=60)

    variants: dict[str, Callable] = {
        "dense": only("dense"),
        "bm25": only("bm25"),
        "plain rrf k 60": plain,
        "whole-list boost k 60": fused(60, whole_list=True),
        "whole-list boost k 10": fused(10, whole_list=True),
        "first-hit boost k 60": fused(60),
        "first-hit boost k 20": fused(20),
        "first-hit boost k 10 (current)": fused(10),
        "first-hit boost k 5": fused(5),
        "first-hit boost k 10 cap 3": fused(10, cap=3.0),
        "first-hit boost k 10 BM25 x0.75": fused(10, lexical_weight=0.75),
        "first-hit boost k 10 BM25 x0.5": fused(10, lexical_weight=0.5),
        "k 10 BM25 x min(1, boost/2)": fused(10, unsure_lexical=2.0),
        "sides spread, then k 10": presorted(fused(10)),
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
            print(f"{'variant':<32}{'R@1':>8}{'R@5':>8}{'R@10':>8}{'MRR@10':>8}")
            for name, fuse in variants.items():
                ranked = []
                for query, dense, lexical, overlap in candidates:
                    fused = fuse(dense, lexical, overlap)
                    dense_scores = {h.id: h.score for h in dense}
                    hits = retriever._finish(query.question, fused, K, dense_scores)
                    ranked.append([labels[h.id] for h in hits])
                row = summarise(ranked, [q.gold for q in scored], [0.0])
                print(
                    f"{name:<32}{row['recall@1']:>8.3f}{row['recall@5']:>8.3f}"
                    f"{row['recall@10']:>8.3f}{row['mrr@10']:>8.3f}"
                )


if __name__ == "__main__":
    main()
