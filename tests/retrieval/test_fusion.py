from __future__ import annotations

import pytest

from retrieval.dedupe import suppress_near_duplicates
from retrieval.fusion import dense_weight, lexical_weight, reciprocal_rank_fusion
from retrieval.index.base import VectorHit


def hits(*ids: int) -> list[VectorHit]:
    return [VectorHit(i, 1.0 / (n + 1)) for n, i in enumerate(ids)]


def test_agreement_between_the_lists_wins():
    fused = reciprocal_rank_fusion(hits(1, 2, 3), hits(4, 2, 5))
    assert fused[0].id == 2
    assert (fused[0].dense_rank, fused[0].lexical_rank) == (2, 2)
    assert {h.id for h in fused} == {1, 2, 3, 4, 5}


def test_a_lexical_list_in_another_script_adds_nothing():
    dense, lexical = hits(1, 2, 3), hits(9, 8, 3)
    assert lexical_weight(0.0, lexical) == 0.0
    fused = reciprocal_rank_fusion(dense, lexical, lexical_weight=lexical_weight(0.0, lexical))
    assert [h.id for h in fused] == [1, 2, 3]
    full = reciprocal_rank_fusion(dense, lexical, lexical_weight=lexical_weight(1.0, lexical))
    assert full[0].id == 3


def test_a_confident_lexical_winner_outweighs_dense_neighbours():
    flat = [VectorHit(7, 10.0), VectorHit(8, 9.9)]
    clear = [VectorHit(7, 30.0), VectorHit(8, 9.9)]
    assert lexical_weight(1.0, flat) == pytest.approx((10.0 / 9.9) ** 2)
    assert lexical_weight(1.0, clear) == 5.0  # capped
    assert lexical_weight(0.5, clear[:1]) == 0.5  # a single hit says nothing about its margin
    # Dense ranks 9 first and 7 second; BM25 ranks 7 first by a clear margin and 9 lower down.
    dense, lexical = hits(9, 7), [VectorHit(7, 30.0), VectorHit(8, 9.9), VectorHit(9, 9.8)]
    plain = reciprocal_rank_fusion(dense, lexical)
    weighted = reciprocal_rank_fusion(dense, lexical, lexical_weight=lexical_weight(1.0, lexical))
    assert (plain[0].id, weighted[0].id) == (7, 7)
    assert weighted[0].score - weighted[1].score > plain[0].score - plain[1].score


def test_near_duplicates_are_dropped_from_the_top_k():
    texts = {
        1: "Remote work requires written approval from your manager.",
        2: "Remote work requires written approval from your manager!\n",
        3: "Expense reports are due within 30 days.",
        4: "员工食堂每天早上七点四十五分开门。",
    }
    kept = suppress_near_duplicates([1, 2, 3, 4], texts.get, limit=3)
    assert kept == [1, 3, 4]
    assert suppress_near_duplicates([1, 2, 3], texts.get, threshold=1.01, limit=3) == [1, 2, 3]


def test_dense_weight_follows_the_margin_of_its_best_hit():
    flat = [VectorHit(i, 0.80 - 0.001 * i) for i in range(50)]
    clear = [VectorHit(0, 0.95), *flat[1:]]
    assert 1.0 <= dense_weight(flat) < 1.3  # an even list: about plain RRF
    assert dense_weight(clear) == 5.0
    assert dense_weight(flat[:2]) == 1.0
