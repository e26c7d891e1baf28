from __future__ import annotations

import pytest

from retrieval.dedupe import suppress_near_duplicates
from retrieval.fusion import dense_confidence, lexical_confidence, reciprocal_rank_fusion
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
    fused = reciprocal_rank_fusion(dense, lexical, lexical_scale=0.0)
    assert [h.id for h in fused] == [1, 2, 3]
    full = reciprocal_rank_fusion(dense, lexical, lexical_scale=1.0)
    assert full[0].id == 3


def test_a_confident_lexical_winner_outweighs_dense_neighbours():
    flat = [VectorHit(7, 10.0), VectorHit(8, 9.9)]
    clear = [VectorHit(7, 30.0), VectorHit(8, 9.9)]
    assert lexical_confidence(flat) == pytest.approx((10.0 / 9.9) ** 2)
    assert lexical_confidence(clear) == 5.0  # capped
    assert lexical_confidence(clear[:1]) == 1.0  # a single hit says nothing about its margin
    # Dense ranks 9 first and 7 second; BM25 ranks 7 first by a clear margin and 9 third.
    dense, lexical = hits(9, 7), [VectorHit(7, 30.0), VectorHit(8, 9.9), VectorHit(9, 9.8)]
    plain = reciprocal_rank_fusion(dense, lexical)
    boosted = reciprocal_rank_fusion(dense, lexical, lexical_boost=lexical_confidence(lexical))
    assert (plain[0].id, boosted[0].id) == (7, 7)
    assert boosted[0].score - boosted[1].score > plain[0].score - plain[1].score


def test_the_boost_lifts_only_the_first_hit_of_a_list():
    # A confident BM25 list must not push the dense list's second hit out of the top 3 with its
    # own second and third hits, which its margin says nothing about.
    dense, lexical = hits(1, 2, 3), [VectorHit(7, 30.0), VectorHit(8, 5.0), VectorHit(9, 4.9)]
    fused = reciprocal_rank_fusion(
        dense, lexical, lexical_scale=0.9, lexical_boost=lexical_confidence(lexical)
    )
    assert [h.id for h in fused[:3]] == [7, 1, 2]


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


def test_dense_confidence_follows_the_margin_of_its_best_hit():
    flat = [VectorHit(i, 0.80 - 0.001 * i) for i in range(50)]
    clear = [VectorHit(0, 0.95), *flat[1:]]
    assert 1.0 <= dense_confidence(flat) < 1.3  # an even list: about plain RRF
    assert dense_confidence(clear) == 5.0
    assert dense_confidence(flat[:2]) == 1.0
