"""FAISS index persisted on disk, safe with several processes.

Layout of the index directory (published by `infra.publish.VersionedSnapshots`):
- `index-<version>.faiss`: one immutable snapshot per version;
- `current.json`: {"version", "file", "model", "dimension"}, replaced atomically after the snapshot
  it names is fully written, so a reader always sees a complete, matching pair;
- `write.lock`: an exclusive `flock` held for the whole read-modify-write, so there is exactly one
  writer at a time across every web and worker process.

Readers compare `current.json`'s version on each search and reload when it changed, so a web process
picks up vectors written by a worker without a restart.

Index type follows size: up to `flat_max` vectors an exact flat index (IndexIDMap2 over
IndexFlatIP); the write that takes it past `flat_max` rebuilds it as an inverted-file index
(`ivf`, default IVF with 8-bit scalar quantisation: a quarter of the memory, recall@10 vs exact
measured by `bench/search.py`) trained on the exact vectors it already holds. IVF indexes support
removal by id and search-time id filters, which the ingestion and access-filter paths need (HNSW
supports neither removal nor cheap rebuilds).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from infra.publish import VersionedSnapshots
from retrieval.idsets import IdSet, as_array
from retrieval.index.base import IndexMismatch, VectorHit, VectorIndex


class FaissIndexStore(VectorIndex):
    def __init__(
        self,
        path: str,
        flat_max: int = 100_000,
        ivf: str = "SQ8",
        nprobe: int = 32,
    ) -> None:
        """`ivf` is the FAISS encoding of vectors inside the inverted lists ("Flat", "SQ8", or a PQ
        spec such as "PQ48"); `nprobe` how many lists a search visits."""
        self.flat_max = flat_max
        self.ivf = ivf
        self.nprobe = nprobe
        self.path = Path(path)
        self._snapshots = VersionedSnapshots(self.path, prefix="index", suffix=".faiss")
        self._loaded_version: int | None = None
        self._index = None
        self._meta: dict = {}
        self._read_lock = threading.Lock()

    # -- metadata -------------------------------------------------------------------------------
    @staticmethod
    def _check_model(meta: dict, model: str, dimension: int | None) -> None:
        if meta.get("model") is None:
            return
        if meta["model"] != model or (dimension is not None and meta["dimension"] != dimension):
            raise IndexMismatch(
                f"The vector index was built with {meta['model']} ({meta['dimension']} dims) but "
                f"the configured embedder is {model} ({dimension} dims); "
                "run `manage.py rebuild_index`."
            )

    @staticmethod
    def _open(path: Path):
        import faiss

        return faiss.read_index(str(path))

    # -- writing ----------------------------------------------------------------------------------
    def update(
        self,
        *,
        model: str,
        remove_ids=(),
        add_ids=(),
        vectors: np.ndarray | None = None,
    ) -> None:
        import faiss

        add = np.asarray(add_ids, dtype=np.int64)
        remove = np.asarray(remove_ids, dtype=np.int64)
        dimension = None if vectors is None or len(add) == 0 else int(vectors.shape[1])
        with self._snapshots.lock():
            meta = self._snapshots.current()
            self._check_model(meta, model, dimension)
            if meta["file"]:
                index = self._open(self._snapshots.path(meta))
            elif dimension is None:
                return  # nothing stored yet and nothing to add
            else:
                index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
            if len(remove):
                index.remove_ids(remove)
            if len(add):
                # Re-adding an id that is already present would store it twice; remove first.
                index.remove_ids(add)
                vectors = np.ascontiguousarray(vectors, dtype=np.float32)
                if _is_flat(index) and index.ntotal + len(add) > self.flat_max:
                    index = self._to_ivf(index, vectors, add)
                else:
                    index.add_with_ids(vectors, add)
            self._publish(index, model)

    def _to_ivf(self, flat, new_vectors: np.ndarray, new_ids: np.ndarray):
        """Rebuild a flat index and the vectors about to be added as one IVF index."""
        import faiss

        old_ids = faiss.vector_to_array(flat.id_map).astype(np.int64)
        old_vectors = flat.index.reconstruct_n(0, flat.ntotal) if flat.ntotal else new_vectors[:0]
        vectors = np.concatenate([old_vectors, new_vectors])
        ids = np.concatenate([old_ids, new_ids])
        return build_ivf(vectors, ids, encoding=self.ivf)

    def clear(self) -> None:
        """Publish an empty version that records no model: the next write may use any embedder."""
        with self._snapshots.lock():
            self._snapshots.publish(None, model=None, dimension=None)

    def describe(self) -> dict:
        """The published version's model, dimension and vector count, for consistency checks."""
        index, meta = self._current()
        return {
            "version": meta.get("version", 0),
            "model": meta.get("model"),
            "dimension": meta.get("dimension"),
            "count": 0 if index is None else int(index.ntotal),
        }

    def _publish(self, index, model: str) -> None:
        import faiss

        self._snapshots.publish(
            lambda path: faiss.write_index(index, str(path)), model=model, dimension=index.d
        )

    # -- reading ----------------------------------------------------------------------------------
    def _current(self):
        version = self._snapshots.current()["version"]
        with self._read_lock:
            if version != self._loaded_version:
                self._index, self._meta = self._snapshots.load(self._open)
                self._loaded_version = self._meta["version"]
            return self._index, self._meta

    def search(
        self,
        *,
        model: str,
        vector: np.ndarray,
        k: int,
        allowed_ids: IdSet | None = None,
        excluded_ids: IdSet | None = None,
    ) -> list[VectorHit]:
        import faiss

        allowed_ids, excluded_ids = as_array(allowed_ids), as_array(excluded_ids)  # queries: read
        index, meta = self._current()
        if index is None or index.ntotal == 0:
            return []
        self._check_model(meta, model, int(vector.shape[-1]))
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        if allowed_ids is not None and excluded_ids is not None and len(excluded_ids):
            allowed_ids = np.setdiff1d(allowed_ids, excluded_ids)
            excluded_ids = None
        # Filtering inside the search (not after it) keeps k results even when most of the
        # corpus is excluded; IndexIDMap2 translates the selector to our ids. The id arrays must
        # outlive the search (the selectors point into them).
        selector_ids = None
        selector = None
        if allowed_ids is not None:
            selector_ids = np.ascontiguousarray(allowed_ids, dtype=np.int64)
            if len(selector_ids) == 0:
                return []
            selector = faiss.IDSelectorBatch(len(selector_ids), faiss.swig_ptr(selector_ids))
        elif excluded_ids is not None and len(excluded_ids):
            selector_ids = np.ascontiguousarray(excluded_ids, dtype=np.int64)
            negated = faiss.IDSelectorBatch(len(selector_ids), faiss.swig_ptr(selector_ids))
            selector = faiss.IDSelectorNot(negated)  # which does not own `negated`: keep it
        if _is_flat(index):
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        else:
            params = faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
        scores, ids = index.search(query, min(k, index.ntotal), params=params)
        del selector_ids, selector
        return [
            VectorHit(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1
        ]

    def count(self) -> int:
        index, _ = self._current()
        return 0 if index is None else int(index.ntotal)

    def ids(self) -> np.ndarray:
        """Every id in the index; used by consistency checks."""
        import faiss

        index, _ = self._current()
        if index is None:
            return np.zeros(0, dtype=np.int64)
        if _is_flat(index):
            return faiss.vector_to_array(index.id_map).astype(np.int64)
        invlists = index.invlists
        parts = [
            faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
            for i in range(invlists.nlist)
        ]
        return np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, np.int64)


def _is_flat(index) -> bool:
    import faiss

    return isinstance(index, faiss.IndexIDMap2)


def ivf_lists(n: int) -> int:
    """Inverted lists for n vectors: 2·sqrt(n) (FAISS suggests 1 to 16 times sqrt(n); fewer lists
    train faster on 2 cores and cost little at nprobe 32), at least 1, and few enough that training
    sees ≥ 39 points per centroid."""
    return max(1, min(int(2 * np.sqrt(n)), n // 39))


def build_ivf(
    vectors: np.ndarray, ids: np.ndarray, *, encoding: str = "SQ8", nlist: int | None = None
):
    """An inner-product IVF index over `vectors`, trained on (a sample of) them."""
    import faiss

    dimension = vectors.shape[1]
    nlist = nlist or ivf_lists(len(vectors))
    index = faiss.index_factory(dimension, f"IVF{nlist},{encoding}", faiss.METRIC_INNER_PRODUCT)
    sample = vectors
    if len(vectors) > 64 * nlist:  # k-means needs tens of points per centroid, not all of them
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(len(vectors), 64 * nlist, replace=False)]
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
    return index
