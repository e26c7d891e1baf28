from __future__ import annotations

from retrieval.dedupe import suppress_near_duplicates
from retrieval.fusion import lexical_weight, reciprocal_rank_fusion
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
    assert lexical_weight(0.0) == 0.0
    fused = reciprocal_rank_fusion(dense, lexical, lexical_weight=lexical_weight(0.0))
    assert [h.id for h in fused] == [1, 2, 3]
    # With full coverage the lexical list counts as much as the dense one.
    full = reciprocal_rank_fusion(dense, lexical, lexical_weight=lexical_weight(1.0))
    assert full[0].id == 3


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
