"""The numpy builder makes the index bm25s's own build makes: same vocabulary, layout and scores."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

from retrieval.lexical.bm25_build import build_bm25s

DOCS = [
    "expense report expense travel",
    "",
    "食堂 开门 食堂 cafeteria",
    "travel policy approval manager manager manager",
    "alpha " * 300 + "beta",
    "policy",
]


def test_same_scores_as_bm25s_own_build(tmp_path: Path):
    ours, lengths = build_bm25s(DOCS, k1=1.2, b=0.75)
    assert lengths.tolist() == [len(d.split(" ")) if d else 0 for d in DOCS]
    theirs = bm25s.BM25(k1=1.2, b=0.75)
    theirs.index([d.split(" ") if d else [] for d in DOCS], show_progress=False)
    ours.save(str(tmp_path))
    loaded = bm25s.BM25.load(str(tmp_path))
    assert set(loaded.vocab_dict) == set(theirs.vocab_dict) - {""}
    for query in (["expense"], ["manager", "policy"], ["食堂", "cafeteria"], ["alpha", "beta"]):
        assert loaded.get_scores(query) == pytest.approx(theirs.get_scores(query), rel=1e-6)
    assert np.array_equal(loaded.scores["indptr"][-1:], [sum(len(set(d.split())) for d in DOCS)])


def test_no_documents():
    retriever, lengths = build_bm25s([], k1=1.2, b=0.75)
    assert retriever is None and len(lengths) == 0
