"""Reciprocal rank fusion in which each list's first hit counts for as much as it stands out.

Plain RRF (k = 60) trusts both lists equally, and the shared baselines show what that costs: a
Chinese question over English passages shares almost no terms with them, so BM25's list is noise
that drags good dense hits down (xquad-zh2en); where the question quotes the passage, BM25 is
nearly always right and dense neighbours push its hit off rank 1 (cmrc2018).

So each list gets:
- a scale (BM25 only): script overlap, the share of the question's terms written in a script the
  corpus uses (CJK or alphabetic). A Chinese question over English documents keeps only its
  Latin-script terms (names, numbers), and BM25 fades out instead of adding noise;
- a boost for its first hit only: how far that hit stands out. BM25: (top score / second)²; a
  question quoting its passage's rare words gives one clear winner. Dense: the top score's margin
  over the list's mean, relative to the second's, to the 4th power (cosine scores are compressed,
  so the margin needs the steeper power). Both capped at 5. The margin says something about the
  first hit, nothing about the rest of the list: boosting the whole list (as this module did
  before) let a confident BM25 list outrank dense hits wholesale and cost recall@5;
- k = 10 rather than 60, so the top ranks of each list, where the evidence is, decide.

Chosen on the shared sets with `bench/fusion.py`, which replays variants over the same candidate
lists (README, "Retrieval").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.index.base import VectorHit


@dataclass
class FusedHit:
    id: int
    score: float
    dense_rank: int | None = None  # 1-based rank in each side's list, for diagnostics
    lexical_rank: int | None = None


CONFIDENCE_CAP = 5.0
RRF_K = 10


def lexical_confidence(lexical: Sequence[VectorHit]) -> float:
    """Boost of BM25's first hit: (top score / second)², from 1 up to the cap."""
    if len(lexical) < 2 or lexical[1].score <= 0:
        return 1.0
    return min(CONFIDENCE_CAP, (lexical[0].score / lexical[1].score) ** 2)


def dense_confidence(dense: Sequence[VectorHit]) -> float:
    """Boost of the dense list's first hit: its margin over the list's mean relative to the
    second's, to the 4th power, from 1 up to the cap."""
    if len(dense) < 3:
        return 1.0
    mean = sum(h.score for h in dense) / len(dense)
    second = dense[1].score - mean
    if second <= 0:
        return CONFIDENCE_CAP
    return min(CONFIDENCE_CAP, ((dense[0].score - mean) / second) ** 4)


def reciprocal_rank_fusion(
    dense: Sequence[VectorHit],
    lexical: Sequence[VectorHit],
    *,
    lexical_scale: float = 1.0,
    lexical_boost: float = 1.0,
    dense_boost: float = 1.0,
    k: int = RRF_K,
) -> list[FusedHit]:
    """Each hit at rank r of a list adds scale / (k + r), its first hit scale · boost / (k + 1)."""
    fused: dict[int, FusedHit] = {}
    for rank, hit in enumerate(dense, start=1):
        entry = fused.setdefault(hit.id, FusedHit(hit.id, 0.0))
        entry.score += (dense_boost if rank == 1 else 1.0) / (k + rank)
        entry.dense_rank = rank
    if lexical_scale > 0:
        for rank, hit in enumerate(lexical, start=1):
            entry = fused.setdefault(hit.id, FusedHit(hit.id, 0.0))
            entry.score += lexical_scale * (lexical_boost if rank == 1 else 1.0) / (k + rank)
            entry.lexical_rank = rank
    return sorted(fused.values(), key=lambda h: (-h.score, h.id))
