"""Ranking metrics over gold units. A retrieved chunk is a hit when it covers a gold unit (a gold
passage, or a gold page of a gold file); recall@k counts a question as found when any gold unit is
in its top k (the definition the shared baselines use)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def first_hit_rank(ranked: Sequence[frozenset], gold: frozenset) -> int | None:
    for rank, labels in enumerate(ranked, start=1):
        if labels & gold:
            return rank
    return None


def ndcg_at(ranked: Sequence[frozenset], gold: frozenset, k: int = 10) -> float:
    """Binary-gain nDCG where each gold unit earns credit once (a second chunk of the same gold
    page adds nothing)."""
    seen: set = set()
    dcg = 0.0
    for rank, labels in enumerate(ranked[:k], start=1):
        new = (labels & gold) - seen
        if new:
            seen |= new
            dcg += 1.0 / math.log2(rank + 1)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(gold), k) + 1))
    return dcg / ideal if ideal else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(
    ranked_lists: Sequence[Sequence[frozenset]],
    golds: Sequence[frozenset],
    latencies_ms: Sequence[float],
) -> dict:
    n = len(golds)
    ranks = [first_hit_rank(r, g) for r, g in zip(ranked_lists, golds, strict=True)]

    def recall(k: int) -> float:
        return sum(1 for r in ranks if r is not None and r <= k) / n if n else 0.0

    return {
        "recall@1": recall(1),
        "recall@5": recall(5),
        "recall@10": recall(10),
        "mrr@10": sum(1.0 / r for r in ranks if r is not None and r <= 10) / n if n else 0.0,
        "ndcg@10": sum(ndcg_at(r, g) for r, g in zip(ranked_lists, golds, strict=True)) / n
        if n
        else 0.0,
        "p50_ms": percentile(latencies_ms, 0.5),
        "p95_ms": percentile(latencies_ms, 0.95),
    }
