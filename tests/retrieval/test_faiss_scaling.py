"""The FAISS store switches from exact search to IVF beyond `flat_max`, keeping ids, removal and
filters working."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from retrieval.index.faiss_store import FaissIndexStore


def vectors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((20, 32)).astype(np.float32)
    data = centers[rng.integers(0, 20, n)] + 0.3 * rng.standard_normal((n, 32)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


def test_grows_from_flat_to_ivf_with_recall_close_to_exact(tmp_path: Path):
    store = FaissIndexStore(str(tmp_path), flat_max=2_000, nprobe=8)
    first, second = vectors(1_500, 1), vectors(1_500, 2)
    store.update(model="m", add_ids=np.arange(1_500) + 100, vectors=first)
    assert isinstance(store._current()[0], faiss.IndexIDMap2)
    store.update(model="m", add_ids=np.arange(1_500) + 10_000, vectors=second)
    index = store._current()[0]
    assert isinstance(index, faiss.IndexIVF)
    assert store.count() == 3_000
    assert set(store.ids()) == set(range(100, 1_600)) | set(range(10_000, 11_500))

    everything = np.concatenate([first, second])
    everything_ids = np.concatenate([np.arange(1_500) + 100, np.arange(1_500) + 10_000])
    queries = vectors(50, 3)
    exact = np.argsort(-(queries @ everything.T), axis=1)[:, :10]
    found = [[h.id for h in store.search(model="m", vector=q, k=10)] for q in queries]
    recall = np.mean(
        [len(set(f) & set(everything_ids[e])) / 10 for f, e in zip(found, exact, strict=True)]
    )
    assert recall >= 0.9

    # Removal and re-adding work on the IVF index as they did on the flat one.
    top = found[0][0]
    store.update(model="m", remove_ids=[top])
    assert top not in [h.id for h in store.search(model="m", vector=queries[0], k=10)]
    assert store.count() == 2_999


def test_allowed_ids_filter_inside_the_search(tmp_path: Path):
    data = vectors(500, 4)
    for flat_max in (1_000, 100):  # exact, then IVF
        store = FaissIndexStore(str(tmp_path / str(flat_max)), flat_max=flat_max, nprobe=64)
        store.update(model="m", add_ids=np.arange(500), vectors=data)
        allowed = np.array([7, 123, 444])
        hits = store.search(model="m", vector=data[0], k=10, allowed_ids=allowed)
        assert sorted(h.id for h in hits) == [7, 123, 444]
        assert store.search(model="m", vector=data[0], k=10, allowed_ids=allowed[:0]) == []
