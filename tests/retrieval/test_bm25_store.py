from __future__ import annotations

from pathlib import Path

import numpy as np

from retrieval.lexical.bm25_store import BM25Store

TEXTS = {
    1: "The cafeteria opens at 7:45 on weekdays.",
    2: "Expense reports must be submitted within 30 days.",
    3: "员工食堂每天早上七点四十五分开门。",
}


def store_with_texts(path: Path) -> BM25Store:
    store = BM25Store(str(path))
    store.update(add_ids=list(TEXTS), texts=list(TEXTS.values()))
    return store


def ids(result) -> list[int]:
    return [hit.id for hit in result.hits]


def test_finds_english_and_chinese_by_their_words(tmp_path: Path):
    store = store_with_texts(tmp_path)
    assert ids(store.search(query="When does the cafeteria open?", k=5)) == [1]
    assert ids(store.search(query="食堂几点开门", k=5)) == [3]
    assert store.texts([3, 99]) == {3: TEXTS[3]}


def test_script_overlap_says_whether_the_corpus_can_share_words_with_the_query(tmp_path: Path):
    mixed = store_with_texts(tmp_path / "mixed")
    assert mixed.search(query="cafeteria expense", k=5).script_overlap == 1.0
    assert mixed.search(query="食堂几点开门", k=5).script_overlap == 1.0
    english = BM25Store(str(tmp_path / "en"))
    english.update(add_ids=[1, 2], texts=[TEXTS[1], TEXTS[2]])
    assert english.search(query="食堂几点开门", k=5).script_overlap == 0.0
    # A Chinese question naming an English term keeps that term's share.
    result = english.search(query="Zorblax 食堂几点开门", k=5)
    assert 0.0 < result.script_overlap < 0.5


def test_remove_and_re_add_keep_one_copy_and_persist(tmp_path: Path):
    store = store_with_texts(tmp_path)
    store.update(add_ids=[1], texts=["The cafeteria now opens at 8:00."])  # re-index: replaced
    store.update(remove_ids=[2])
    reader = BM25Store(str(tmp_path))  # another process: reads the published snapshot
    assert list(reader.ids()) == [1, 3]
    assert ids(reader.search(query="expense reports", k=5)) == []
    assert reader.texts([1]) == {1: "The cafeteria now opens at 8:00."}
    store.update(add_ids=[4], texts=["Expense reports go to finance."])
    assert ids(reader.search(query="expense reports", k=5)) == [4]  # new version picked up
    assert len(list(tmp_path.glob("bm25-*"))) == 1  # old snapshots cleaned up


def test_allowed_ids_filter_before_the_top_k(tmp_path: Path):
    store = BM25Store(str(tmp_path))
    store.update(add_ids=[1, 2, 3], texts=["alpha alpha alpha", "alpha alpha", "alpha"])
    assert ids(store.search(query="alpha", k=1)) == [1]
    assert ids(store.search(query="alpha", k=1, allowed_ids=np.array([3]))) == [3]
    assert ids(store.search(query="alpha", k=5, allowed_ids=np.array([], dtype=np.int64))) == []


def test_empty_store_and_removing_everything(tmp_path: Path):
    store = BM25Store(str(tmp_path))
    assert store.search(query="anything", k=3).hits == []
    store.update(add_ids=[1], texts=["something"])
    store.update(remove_ids=[1])
    assert store.count() == 0
    assert store.search(query="something", k=3).hits == []
