from __future__ import annotations

import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from retrieval.index.base import IndexMismatch
from retrieval.index.faiss_store import FaissIndexStore


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_add_search_remove(tmp_path: Path):
    store = FaissIndexStore(str(tmp_path))
    store.update(model="m", add_ids=[10, 20], vectors=np.stack([unit(1, 0, 0), unit(0, 1, 0)]))
    hits = store.search(model="m", vector=unit(0.9, 0.1, 0), k=2)
    assert [h.id for h in hits] == [10, 20]
    assert hits[0].score == pytest.approx(float(unit(0.9, 0.1, 0) @ unit(1, 0, 0)))
    store.update(model="m", remove_ids=[10])
    assert [h.id for h in store.search(model="m", vector=unit(1, 0, 0), k=5)] == [20]


def test_re_adding_an_id_replaces_it(tmp_path: Path):
    store = FaissIndexStore(str(tmp_path))
    store.update(model="m", add_ids=[1], vectors=unit(1, 0)[None])
    store.update(model="m", add_ids=[1], vectors=unit(0, 1)[None])
    assert store.count() == 1
    assert store.search(model="m", vector=unit(0, 1), k=1)[0].score == pytest.approx(1.0)


def test_another_process_sees_new_versions_without_restart(tmp_path: Path):
    reader = FaissIndexStore(str(tmp_path))
    assert reader.search(model="m", vector=unit(1, 0), k=1) == []
    writer = FaissIndexStore(str(tmp_path))
    writer.update(model="m", add_ids=[7], vectors=unit(1, 0)[None])
    assert [h.id for h in reader.search(model="m", vector=unit(1, 0), k=1)] == [7]
    assert len(list(tmp_path.glob("index-*.faiss"))) == 1  # old snapshots are cleaned up


def _add_many(path: str, start: int) -> None:
    store = FaissIndexStore(path)
    for i in range(start, start + 20):
        store.update(model="m", add_ids=[i], vectors=unit(1, i)[None])


def test_concurrent_writers_lose_nothing(tmp_path: Path):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_add_many, args=(str(tmp_path), n * 100)) for n in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    store = FaissIndexStore(str(tmp_path))
    assert store.count() == 60
    assert sorted(store.ids().tolist()) == sorted(
        i for n in range(3) for i in range(n * 100, n * 100 + 20)
    )


def test_model_or_dimension_mismatch_is_refused(tmp_path: Path):
    store = FaissIndexStore(str(tmp_path))
    store.update(model="model-a", add_ids=[1], vectors=unit(1, 0)[None])
    with pytest.raises(IndexMismatch, match="rebuild_index"):
        store.search(model="model-b", vector=unit(1, 0), k=1)
    with pytest.raises(IndexMismatch):
        store.update(model="model-a", add_ids=[2], vectors=unit(1, 0, 0)[None])
