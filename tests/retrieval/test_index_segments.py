"""The stores on disk write segments on top of a base and merge them later: whatever the mix of
base, segments and merges, a search answers as a store built in one go would, readers never see a
half-written version, and a writer or merge killed at any point leaves the last version readable."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from retrieval.index.faiss_store import FaissIndexStore
from retrieval.lexical.bm25_store import BM25Store

DIM = 16
WORDS = (
    "expense report travel policy cafeteria opens weekdays finance approval manager budget "
    "invoice laptop security badge parking holiday leave salary training office printer"
).split()
HANZI = [
    "员工",
    "食堂",
    "报销",
    "差旅",
    "政策",
    "财务",
    "审批",
    "经理",
    "预算",
    "发票",
    "假期",
    "培训",
]
QUERIES = [
    "expense report approval",
    "cafeteria opens weekdays",
    "travel policy budget",
    "员工食堂报销",
    "财务审批 manager",
    "holiday leave 假期",
    "parking badge security",
]


def text(rng: np.random.Generator) -> str:
    """A chunk of 5 to 40 words, English or Chinese or both, words repeated as in real text."""
    english = " ".join(rng.choice(WORDS, rng.integers(5, 40)))
    chinese = "".join(rng.choice(HANZI, rng.integers(3, 20)))
    return [english, chinese, f"{english} {chinese}"][rng.integers(0, 3)]


def vector(rng: np.random.Generator, n: int) -> np.ndarray:
    data = rng.standard_normal((n, DIM)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def small_writes(rng: np.random.Generator) -> list[tuple[list[int], list[int]]]:
    """(remove, add) steps: documents added, re-indexed (replacing base and segment ids),
    removed, and re-added unchanged."""
    steps = [([], list(range(0, 60)))]  # the base
    steps += [([], list(range(start, start + 5))) for start in range(100, 150, 5)]
    steps += [
        (list(range(100, 105)), list(range(100, 104))),  # a segment document re-indexed shorter
        (list(range(0, 6)), []),  # base chunks removed: tombstones
        ([], [10, 11, 12]),  # base chunks replaced by new versions
        ([], [130, 131]),  # segment chunks replaced
        ([140], []),
        ([], [10, 11, 12]),  # the same write again
    ]
    return steps


def replay_bm25(store: BM25Store, rng: np.random.Generator) -> dict[int, str]:
    final: dict[int, str] = {}
    for remove, add in small_writes(rng):
        texts = [text(rng) for _ in add]
        store.update(remove_ids=remove, add_ids=add, texts=texts)
        for i in remove:
            final.pop(i, None)
        final.update(zip(add, texts, strict=True))
    return final


def replay_faiss(store: FaissIndexStore, rng: np.random.Generator) -> dict[int, np.ndarray]:
    final: dict[int, np.ndarray] = {}
    for remove, add in small_writes(rng):
        vectors = vector(rng, len(add))
        store.update(model="m", remove_ids=remove, add_ids=add, vectors=vectors)
        for i in remove:
            final.pop(i, None)
        final.update(zip(add, vectors, strict=True))
    return final


def lexical_hits(store: BM25Store, query: str, **filters) -> list[tuple[int, float]]:
    return [(h.id, h.score) for h in store.search(query=query, k=10, **filters).hits]


def assert_same_hits(got: list[tuple[int, float]], expected: list[tuple[int, float]]) -> None:
    assert [i for i, _s in got] == [i for i, _s in expected]
    assert [s for _i, s in got] == pytest.approx([s for _i, s in expected], rel=1e-5)


# -- BM25 -----------------------------------------------------------------------------------------
def test_bm25_small_writes_then_search_equal_a_fresh_full_build(tmp_path: Path):
    store = BM25Store(str(tmp_path / "written"))
    final = replay_bm25(store, np.random.default_rng(1))
    assert store._current().segments  # the writes went to segments, not rebuilds
    fresh = BM25Store(str(tmp_path / "fresh"))
    fresh.update(add_ids=list(final), texts=list(final.values()))
    assert not fresh._current().segments

    assert store.ids().tolist() == sorted(final) == fresh.ids().tolist()
    assert store.count() == len(final)
    some = np.array(sorted(final)[::3])
    for query in QUERIES:
        assert_same_hits(lexical_hits(store, query), lexical_hits(fresh, query))
        assert_same_hits(
            lexical_hits(store, query, allowed_ids=some),
            lexical_hits(fresh, query, allowed_ids=some),
        )
        assert store.search(query=query, k=3).script_overlap == pytest.approx(
            fresh.search(query=query, k=3).script_overlap
        )

    assert store.merge()
    assert not store._current().segments and not list(tmp_path.glob("written/delta-*"))
    assert not store.merge()  # idempotent: nothing left to merge
    for query in QUERIES:
        assert_same_hits(lexical_hits(store, query), lexical_hits(fresh, query))


def test_bm25_tombstones_hide_base_chunks_and_a_re_add_stores_one_copy(tmp_path: Path):
    store = BM25Store(str(tmp_path))
    store.update(add_ids=[1, 2, 3, 4], texts=["alpha beta", "alpha", "gamma", "delta"])
    store.update(remove_ids=[2])
    assert store._current().segments
    assert [h.id for h in store.search(query="alpha", k=5).hits] == [1]
    assert store.search(query="alpha", k=5, allowed_ids=np.array([2])).hits == []
    assert store.ids().tolist() == [1, 3, 4] and store.count() == 3

    before = lexical_hits(store, "alpha beta")
    store.update(add_ids=[1], texts=["alpha beta"])  # the same chunk again
    assert store.count() == 3
    assert_same_hits(lexical_hits(store, "alpha beta"), before)


def test_bm25_base_term_frequencies_come_back_exactly(tmp_path: Path):
    """Long chunks with one word repeated are where recovering tf from float32 scores is least
    precise."""
    store = BM25Store(str(tmp_path / "written"))
    texts = {i: " ".join(["alpha"] * (i * 37 % 400 + 1) + ["beta"] * (i % 7)) for i in range(1, 80)}
    store.update(add_ids=list(texts), texts=list(texts.values()))
    store.update(add_ids=[500], texts=["beta gamma"])
    fresh = BM25Store(str(tmp_path / "fresh"))
    texts[500] = "beta gamma"
    fresh.update(add_ids=list(texts), texts=list(texts.values()))
    for query in ("alpha", "beta", "alpha beta gamma"):
        assert_same_hits(lexical_hits(store, query), lexical_hits(fresh, query))


# -- FAISS ----------------------------------------------------------------------------------------
def vector_hits(store: FaissIndexStore, query: np.ndarray, **filters) -> list[tuple[int, float]]:
    return [(h.id, h.score) for h in store.search(model="m", vector=query, k=10, **filters)]


@pytest.mark.parametrize("flat_max", [10_000, 50])  # exact base; IVF base (exhaustive, Flat)
def test_faiss_small_writes_then_search_equal_a_fresh_full_build(tmp_path: Path, flat_max: int):
    options = {"flat_max": flat_max, "ivf": "Flat", "nprobe": 1_000}
    store = FaissIndexStore(str(tmp_path / "written"), **options)
    rng = np.random.default_rng(2)
    final = replay_faiss(store, rng)
    assert store._current().segments
    fresh = FaissIndexStore(str(tmp_path / "fresh"), **options)
    fresh.update(model="m", add_ids=list(final), vectors=np.stack(list(final.values())))

    assert store.ids().tolist() == sorted(final) == fresh.ids().tolist()
    assert store.count() == len(final) == store.describe()["count"]
    some = np.array(sorted(final)[::3])
    for query in vector(rng, 10):
        assert_same_hits(vector_hits(store, query), vector_hits(fresh, query))
        assert_same_hits(
            vector_hits(store, query, allowed_ids=some), vector_hits(fresh, query, allowed_ids=some)
        )
        assert_same_hits(
            vector_hits(store, query, excluded_ids=some),
            vector_hits(fresh, query, excluded_ids=some),
        )

    assert store.merge()
    assert store.describe()["segments"] == 0 and not list(tmp_path.glob("written/delta-*"))
    assert type(store._current().index) is type(fresh._current().index)  # the IVF switch
    for query in vector(rng, 5):
        assert_same_hits(vector_hits(store, query), vector_hits(fresh, query))


def test_faiss_tombstone_removes_a_base_id_and_a_re_add_stores_one_copy(tmp_path: Path):
    store = FaissIndexStore(str(tmp_path))
    rng = np.random.default_rng(3)
    base = vector(rng, 20)
    store.update(model="m", add_ids=np.arange(20), vectors=base)
    store.update(model="m", remove_ids=[4])
    assert store.describe()["segments"] == 1
    assert 4 not in [h.id for h in store.search(model="m", vector=base[4], k=20)]
    assert store.search(model="m", vector=base[4], k=5, allowed_ids=np.array([4])) == []
    assert 4 not in store.ids() and store.count() == 19

    store.update(model="m", add_ids=[7], vectors=base[7][None])  # the same vector again
    store.update(model="m", add_ids=[7], vectors=base[7][None])
    assert store.count() == 19 and sorted(store.ids().tolist()) == store.ids().tolist()
    assert len(store.ids()) == len(set(store.ids().tolist()))
    hits = store.search(model="m", vector=base[7], k=3)
    assert hits[0].id == 7 and hits[0].score == pytest.approx(1.0)
    assert [h.id for h in hits].count(7) == 1


# -- merging while others read and write ----------------------------------------------------------
def test_a_write_made_during_a_merge_is_kept(tmp_path: Path):
    rng = np.random.default_rng(4)
    vectors = FaissIndexStore(str(tmp_path / "faiss"))
    lexical = BM25Store(str(tmp_path / "bm25"))
    data = vector(rng, 40)
    vectors.update(model="m", add_ids=np.arange(30), vectors=data[:30])
    lexical.update(add_ids=list(range(30)), texts=[f"common word{i}" for i in range(30)])
    for i in range(30, 35):
        vectors.update(model="m", add_ids=[i], vectors=data[i][None])
        lexical.update(add_ids=[i], texts=[f"common word{i}"])
    reader_vectors = FaissIndexStore(str(tmp_path / "faiss"))
    reader_lexical = BM25Store(str(tmp_path / "bm25"))
    assert reader_vectors.count() == reader_lexical.count() == 35  # holding the pre-merge version

    # A merge plans on the current version and builds without the write lock; a writer comes in
    # before it switches.
    planned = (vectors._snapshots.current(), lexical._snapshots.current())
    vectors.update(model="m", add_ids=[35], vectors=data[35][None], remove_ids=[1])
    lexical.update(add_ids=[35], texts=["common word35 late"], remove_ids=[1])
    with vectors._snapshots.merge_lock(), lexical._snapshots.merge_lock():
        assert vectors._merge(planned[0]) and lexical._merge(planned[1])

    assert vectors.describe()["segments"] == 1 and len(lexical._current().segments) == 1
    assert vectors.ids().tolist() == [0, *range(2, 36)]
    assert lexical.ids().tolist() == [0, *range(2, 36)]
    assert [h.id for h in lexical.search(query="late", k=5).hits] == [35]
    # The reader moves to the merged version, which answers as a fresh build of the final state.
    live = [0, *range(2, 36)]
    exact = data[live] @ data[0]
    expected = [(live[i], exact[i]) for i in np.argsort(-exact)[:10]]
    assert_same_hits(vector_hits(reader_vectors, data[0]), expected)
    fresh = BM25Store(str(tmp_path / "fresh"))
    fresh.update(
        add_ids=live, texts=[f"common word{i}" for i in live[:-1]] + ["common word35 late"]
    )
    for query in ("common word3", "late", "word35"):
        assert_same_hits(lexical_hits(reader_lexical, query), lexical_hits(fresh, query))


def _write_and_merge(path: str, rounds: int) -> None:
    rng = np.random.default_rng(5)
    store = FaissIndexStore(path, merge_min=1)
    for i in range(rounds):
        store.update(model="m", add_ids=np.arange(5) + 1_000 + 5 * i, vectors=vector(rng, 5))
        if i % 4 == 3:
            store.merge()


def test_a_reader_during_merges_always_sees_a_whole_version(tmp_path: Path):
    rng = np.random.default_rng(6)
    base = vector(rng, 50)
    FaissIndexStore(str(tmp_path)).update(model="m", add_ids=np.arange(50), vectors=base)
    reader = FaissIndexStore(str(tmp_path))
    writer = multiprocessing.get_context("spawn").Process(
        target=_write_and_merge, args=(str(tmp_path), 40)
    )
    writer.start()
    seen = []
    while writer.is_alive() or not seen:
        ids = reader.ids()
        # Every version holds the base and whole writes of 5 chunks, each id once.
        assert len(ids) == len(set(ids.tolist())) and (len(ids) - 50) % 5 == 0
        assert set(range(50)) <= set(ids.tolist())
        assert reader.search(model="m", vector=base[9], k=1)[0].id == 9
        seen.append(len(ids))
    writer.join(60)
    assert writer.exitcode == 0
    assert seen == sorted(seen)  # versions only move forward
    assert reader.count() == 50 + 5 * 40


# -- crashes ---------------------------------------------------------------------------------------
def _die_before_switch(path: str, kind: str, action: str) -> None:
    """Write or merge, killed (SIGKILL: no cleanup runs) when everything is written but
    `current.json` is about to switch: the worst moment."""
    import infra.publish

    original = infra.publish.atomic_write_text

    def switch(target: Path, content: str) -> None:
        if target.name == "current.json":
            os.kill(os.getpid(), signal.SIGKILL)
        original(target, content)

    infra.publish.atomic_write_text = switch
    if kind == "faiss":
        store = FaissIndexStore(path)
        if action == "write":
            store.update(model="m", add_ids=[999], vectors=np.ones((1, DIM), np.float32) / 4)
        else:
            store.merge()
    else:
        store = BM25Store(path)
        if action == "write":
            store.update(add_ids=[999], texts=["killed mid write"])
        else:
            store.merge()


@pytest.mark.parametrize("kind", ["faiss", "bm25"])
@pytest.mark.parametrize("action", ["write", "merge"])
def test_a_writer_or_merge_killed_mid_write_leaves_the_previous_version(
    tmp_path: Path, kind: str, action: str
):
    rng = np.random.default_rng(7)
    if kind == "faiss":
        store = FaissIndexStore(str(tmp_path))
        store.update(model="m", add_ids=np.arange(20), vectors=vector(rng, 20))
        store.update(model="m", add_ids=[20], vectors=vector(rng, 1))
    else:
        store = BM25Store(str(tmp_path))
        store.update(add_ids=list(range(20)), texts=[text(rng) for _ in range(20)])
        store.update(add_ids=[20], texts=["mid write survivor"])
    version = store._current().meta["version"]
    process = multiprocessing.get_context("spawn").Process(
        target=_die_before_switch, args=(str(tmp_path), kind, action)
    )
    process.start()
    process.join(60)
    assert process.exitcode == -signal.SIGKILL

    reader = type(store)(str(tmp_path))
    assert reader._current().meta["version"] == version
    assert reader.ids().tolist() == list(range(21))
    if kind == "faiss":
        assert reader.search(model="m", vector=np.ones(DIM, np.float32) / 4, k=30)
    else:
        assert [h.id for h in reader.search(query="survivor", k=3).hits] == [20]
    # The next writer and merge carry on over what the dead one left.
    if kind == "faiss":
        store.update(model="m", add_ids=[21], vectors=vector(rng, 1))
    else:
        store.update(add_ids=[21], texts=["after the crash"])
    assert store.merge()
    assert reader.ids().tolist() == list(range(22))
    assert not list(tmp_path.glob(".merge-*")) and not list(tmp_path.glob("delta-*"))


# -- the background merge task ---------------------------------------------------------------------
def test_the_merge_task_folds_segments_once_they_are_due(settings, tmp_path: Path):
    options = {"merge_ratio": 0.5, "merge_min": 1}
    settings.KBQA_INDEX = {
        "BACKEND": "retrieval.index.faiss_store.FaissIndexStore",
        "OPTIONS": {"path": str(tmp_path / "index"), **options},
    }
    settings.KBQA_LEXICAL_INDEX = {
        "BACKEND": "retrieval.lexical.bm25_store.BM25Store",
        "OPTIONS": {"path": str(tmp_path / "bm25"), **options},
    }
    from retrieval.services import get_index, get_lexical_index
    from retrieval.tasks import merge_index_task

    vectors, lexical = get_index(), get_lexical_index()
    rng = np.random.default_rng(8)
    vectors.update(model="m", add_ids=np.arange(10), vectors=vector(rng, 10))
    lexical.update(add_ids=list(range(10)), texts=[text(rng) for _ in range(10)])
    vectors.update(model="m", add_ids=[10, 11], vectors=vector(rng, 2))
    lexical.update(add_ids=[10, 11], texts=["first write", "of two"])
    assert not vectors.merge_due() and not lexical.merge_due()
    assert merge_index_task() == []  # not due: nothing done

    vectors.update(model="m", add_ids=[12, 13, 14], vectors=vector(rng, 3))
    lexical.update(add_ids=[12, 13, 14], texts=["second write", "of", "three"])
    assert vectors.merge_due() and lexical.merge_due()
    assert merge_index_task() == ["vectors", "lexical"]
    assert vectors.describe()["segments"] == 0 and not lexical._current().segments
    assert vectors.ids().tolist() == lexical.ids().tolist() == list(range(15))
    assert merge_index_task() == []  # idempotent


@pytest.mark.parametrize("kind", ["faiss", "bm25"])
def test_a_merge_overtaken_by_a_writers_own_fold_gives_way(tmp_path: Path, kind: str):
    rng = np.random.default_rng(9)

    def add(ids) -> None:
        if kind == "faiss":
            store.update(model="m", add_ids=ids, vectors=vector(rng, len(ids)))
        else:
            store.update(add_ids=ids, texts=[text(rng) for _ in ids])

    store = FaissIndexStore(str(tmp_path)) if kind == "faiss" else BM25Store(str(tmp_path))
    add(list(range(10)))
    add([10])
    planned = store._snapshots.current()
    add(list(range(11, 40)))  # as large as the base: this write folds inline
    assert not store._current().segments
    with store._snapshots.merge_lock():
        assert not store._merge(planned)
    assert store.ids().tolist() == list(range(40))
    base = store._snapshots.path(store._snapshots.current()).name
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == sorted(
        [base, "current.json", *(["chunks.sqlite3"] if kind == "bm25" else [])]
    )
