"""FAISS index persisted on disk, safe with several processes, with a write cost that follows the
write, not the index.

Layout of the index directory (published by `infra.publish.SegmentedSnapshots`):
- `index-<version>.faiss`: the base, one immutable FAISS snapshot;
- `delta-<version>.npz`: one immutable segment per write since the base: the ids it removes or
  replaces, and the ids and vectors it adds;
- `current.json`: {"version", "file", "model", "dimension", "base_count", "segments"}, replaced
  atomically after the files it names are fully written, so a reader always sees a complete set;
- `write.lock`: an exclusive `flock` held by the one writer; `merge.lock` by the one merge.

A write appends a segment (its own vectors, about 0.5 MB for 300 chunks), so its cost does not grow
with the index. Readers compare `current.json`'s version on each search and read only the segments
they have not applied (a new base only after a merge), so a web process picks up vectors written
by a worker without a restart. A search runs on the base with the ids replaced or removed since
(tombstones) filtered out inside the search, and exactly (numpy) on the segments' live vectors;
the hits are joined by score. Scores are the same inner products as after a merge, except that
vectors still in segments are scored exactly where the base, once IVF, scores approximately.

Segments are folded into a new base by `merge()`: in the background (`retrieval.tasks`, queued by
a write once `merge_due()`), built without the write lock so writers wait only for the switch;
segments written while it builds stay on top of the new base. A write folds inline only when the
segments would outgrow the base (a small index, or no merge has run): that costs at most about
twice the pending segments, so a write still costs in proportion to what was written.

Index type follows size: up to `flat_max` vectors an exact flat index (IndexIDMap2 over
IndexFlatIP); the fold that takes it past `flat_max` rebuilds it as an inverted-file index
(`ivf`, default IVF with 8-bit scalar quantisation: a quarter of the memory, recall@10 vs exact
measured by `bench/search.py`) trained on the exact vectors it already holds. IVF indexes support
removal by id and search-time id filters, which the tombstones and access filter need (HNSW
supports neither removal nor cheap rebuilds).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np

from infra.locks import LockBusy
from infra.publish import SegmentedSnapshots
from retrieval.idsets import IdSet, as_array
from retrieval.index.base import IndexMismatch, VectorHit, VectorIndex

EMPTY_IDS = np.zeros(0, dtype=np.int64)


class _Segment(NamedTuple):
    killed: np.ndarray  # ids removed or replaced by this write
    ids: np.ndarray  # ids added
    vectors: np.ndarray


class _View(NamedTuple):
    """What a reader searches: the base index and the segments applied on top of it. Immutable:
    a new version makes a new view, so searches in other threads keep a consistent one."""

    index: object | None  # the base FAISS index
    meta: dict
    base_ids: np.ndarray  # sorted
    tombstones: np.ndarray  # sorted base ids removed or replaced by segments
    segments: tuple[_Segment, ...] = ()
    alive: tuple[np.ndarray, ...] = ()  # per segment: which of its ids no later segment replaced

    @property
    def count(self) -> int:
        return len(self.base_ids) - len(self.tombstones) + sum(int(a.sum()) for a in self.alive)

    def applied(self, segment: _Segment) -> _View:
        killed = segment.killed
        tombstones = np.union1d(self.tombstones, killed[_members(self.base_ids, killed)])
        alive = tuple(
            a & ~np.isin(s.ids, killed) for s, a in zip(self.segments, self.alive, strict=True)
        )
        return self._replace(
            tombstones=tombstones,
            segments=(*self.segments, segment),
            alive=(*alive, np.ones(len(segment.ids), dtype=bool)),
        )

    def live_segment_vectors(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(ids, vectors) of every segment vector no later write replaced."""
        parts = [
            (s.ids[a], s.vectors[a])
            for s, a in zip(self.segments, self.alive, strict=True)
            if a.any()  # (a segment that only removes has no vectors, nor their dimension)
        ]
        if not parts:
            return EMPTY_IDS, None
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


class FaissIndexStore(VectorIndex):
    def __init__(
        self,
        path: str,
        flat_max: int = 100_000,
        ivf: str = "SQ8",
        nprobe: int = 32,
        merge_ratio: float = 0.1,
        merge_min: int = 2_000,
        max_segments: int = 500,
    ) -> None:
        """`ivf` is the FAISS encoding of vectors inside the inverted lists ("Flat", "SQ8", or a PQ
        spec such as "PQ48"); `nprobe` how many lists a search visits. A merge is due when the
        segments hold more than `merge_ratio` of the base (at least `merge_min` ids) or number
        `max_segments`: merging then costs a bounded multiple of what was written."""
        self.flat_max = flat_max
        self.ivf = ivf
        self.nprobe = nprobe
        self.merge_ratio, self.merge_min, self.max_segments = merge_ratio, merge_min, max_segments
        self.path = Path(path)
        self._snapshots = SegmentedSnapshots(self.path, prefix="index", suffix=".faiss")
        self._view: _View | None = None
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

    def _open_segment(self, version: int) -> _Segment:
        with np.load(self._snapshots.segment_path(version)) as data:
            return _Segment(data["killed"], data["ids"], data["vectors"])

    # -- writing ----------------------------------------------------------------------------------
    def update(
        self,
        *,
        model: str,
        remove_ids=(),
        add_ids=(),
        vectors: np.ndarray | None = None,
    ) -> None:
        add = np.asarray(add_ids, dtype=np.int64)
        remove = np.asarray(remove_ids, dtype=np.int64)
        dimension = None if vectors is None or len(add) == 0 else int(vectors.shape[1])
        vectors = (
            np.ascontiguousarray(vectors, dtype=np.float32)
            if len(add)
            else np.zeros((0, dimension or 0), dtype=np.float32)
        )
        # Re-adding an id that is already present would store it twice: it is replaced.
        segment = _Segment(np.union1d(remove, add), add, vectors)
        with self._snapshots.lock():
            meta = self._snapshots.current()
            self._check_model(meta, model, dimension)
            entries = len(segment.killed)  # ids this write touches
            if entries == 0:
                return
            if self._fold_inline(meta, entries):
                if meta["file"] is None and dimension is None:
                    return  # nothing stored yet and nothing to add
                view = self._load(meta).applied(segment)
                self._publish_base(self._fold(view, dimension or meta["dimension"]), model)
                return

            def write(path: Path) -> None:
                with open(path, "wb") as handle:
                    np.savez(handle, killed=segment.killed, ids=add, vectors=vectors)

            self._snapshots.append_segment(write, entries, model=model)

    def _fold_inline(self, meta: dict, entries: int) -> bool:
        """Whether this write rewrites the base itself: when there is none yet, when it predates
        segments (an index written before them), or when the segments would outgrow it."""
        if meta.get("file") is None or "base_count" not in meta:
            return True
        return self._snapshots.pending(meta) + entries >= meta["base_count"]

    def merge_due(self) -> bool:
        """Whether enough is pending that a background `merge()` should run."""
        meta = self._snapshots.current()
        segments = self._snapshots.segments(meta)
        threshold = max(self.merge_min, self.merge_ratio * meta.get("base_count", 0))
        return bool(segments) and (
            self._snapshots.pending(meta) >= threshold or len(segments) >= self.max_segments
        )

    def merge(self) -> bool:
        """Fold the published segments into a new base. The build runs without the write lock;
        writes made meanwhile are kept. Idempotent: False when there was nothing to merge, another
        merge is running, or a writer folded the segments first."""
        try:
            with self._snapshots.merge_lock():
                return self._merge(self._snapshots.current())
        except LockBusy:
            return False

    def _merge(self, planned: dict) -> bool:
        """Fold the segments `planned` names (its base plus segments) into a new base, then switch
        to it keeping any segment published since. Call under the merge lock."""
        if not self._snapshots.segments(planned):
            return False
        try:
            view = self._load(planned)
        except (FileNotFoundError, RuntimeError):  # faiss: RuntimeError for a missing file
            if self._snapshots.current().get("file") == planned.get("file"):
                raise
            return False  # a writer folded the segments inline meanwhile
        index = self._fold(view, planned["dimension"])
        built = self._snapshots.merge_scratch()
        _write_index(index, built)
        committed = self._snapshots.commit_merge(
            built, planned, base_count=int(index.ntotal), dimension=index.d
        )
        return committed is not None

    def _fold(self, view: _View, dimension: int):
        """The base of `view` with its segments applied: tombstones removed, live vectors added."""
        import faiss

        index = view.index
        if index is None:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        if len(view.tombstones):
            index.remove_ids(view.tombstones)
        ids, vectors = view.live_segment_vectors()
        if len(ids):
            if _is_flat(index) and index.ntotal + len(ids) > self.flat_max:
                index = self._to_ivf(index, vectors, ids)
            else:
                index.add_with_ids(vectors, ids)
        return index

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
        """The published version's model, dimension and vector count, for consistency checks,
        and the segments waiting for a merge."""
        view = self._current()
        meta = view.meta
        return {
            "version": meta.get("version", 0),
            "model": meta.get("model"),
            "dimension": meta.get("dimension"),
            "count": view.count,
            "segments": len(view.segments),
        }

    def _publish_base(self, index, model: str) -> None:
        self._snapshots.publish(
            lambda path: _write_index(index, path),
            model=model,
            dimension=index.d,
            base_count=int(index.ntotal),
        )

    # -- reading ----------------------------------------------------------------------------------
    def _load(self, meta: dict, view: _View | None = None) -> _View:
        """The view of `meta`, reusing `view` when it holds the same base (then only the segments
        it lacks are read). Raises FileNotFoundError when a file `meta` names was removed by a
        newer version meanwhile."""
        segments = self._snapshots.segments(meta)
        versions = [v for v, _n in segments]
        if (
            view is None
            or view.meta.get("file") != meta.get("file")
            or (
                [v for v, _n in self._snapshots.segments(view.meta)]
                != versions[: len(view.segments)]
            )
        ):
            path = self._snapshots.path(meta)
            index = self._open(path) if path is not None else None
            view = _View(index, meta, _index_ids(index), EMPTY_IDS)
        for version in versions[len(view.segments) :]:
            view = view.applied(self._open_segment(version))
        return view._replace(meta=meta)

    def _current(self) -> _View:
        for _attempt in range(5):
            meta = self._snapshots.current()
            with self._read_lock:
                if self._view is not None and self._view.meta["version"] == meta["version"]:
                    return self._view
                try:
                    self._view = self._load(meta, self._view)
                except (FileNotFoundError, RuntimeError):  # faiss: RuntimeError for a missing file
                    if self._snapshots.current()["version"] == meta["version"]:
                        raise
                    continue  # a newer version replaced those files: read current.json again
                return self._view
        raise RuntimeError(f"The index in {self.path} keeps being replaced while read")

    def search(
        self,
        *,
        model: str,
        vector: np.ndarray,
        k: int,
        allowed_ids: IdSet | None = None,
        excluded_ids: IdSet | None = None,
    ) -> list[VectorHit]:
        allowed_ids, excluded_ids = as_array(allowed_ids), as_array(excluded_ids)
        view = self._current()
        if view.count == 0:
            return []
        self._check_model(view.meta, model, int(vector.shape[-1]))
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        if allowed_ids is not None and excluded_ids is not None and len(excluded_ids):
            allowed_ids = np.setdiff1d(allowed_ids, excluded_ids)
            excluded_ids = None
        if allowed_ids is not None and len(allowed_ids) == 0:
            return []
        hits = self._search_base(view, query, k, allowed_ids, excluded_ids)
        for segment, alive in zip(view.segments, view.alive, strict=True):
            hits += _search_segment(segment, alive, query[0], k, allowed_ids, excluded_ids)
        hits.sort(key=lambda h: -h.score)
        return hits[:k]

    def _search_base(self, view: _View, query, k, allowed_ids, excluded_ids) -> list[VectorHit]:
        import faiss

        index = view.index
        if index is None or index.ntotal == 0:
            return []
        # Tombstoned ids are filtered out inside the search, like the access filter: filtering
        # inside (not after) keeps k results even when most of the corpus is excluded;
        # IndexIDMap2 translates the selector to our ids. The id arrays must outlive the search
        # (the selectors point into them).
        if len(view.tombstones):
            if allowed_ids is not None:
                allowed_ids = np.setdiff1d(allowed_ids, view.tombstones)
                if len(allowed_ids) == 0:
                    return []
            elif excluded_ids is not None and len(excluded_ids):
                excluded_ids = np.union1d(excluded_ids, view.tombstones)
            else:
                excluded_ids = view.tombstones
        selector_ids = None
        selector = None
        if allowed_ids is not None:
            selector_ids = np.ascontiguousarray(allowed_ids, dtype=np.int64)
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
        return self._current().count

    def ids(self) -> np.ndarray:
        """Every id in the index; used by consistency checks."""
        view = self._current()
        live, _vectors = view.live_segment_vectors()
        base = np.setdiff1d(view.base_ids, view.tombstones, assume_unique=True)
        return np.sort(np.concatenate([base, live]))


def _search_segment(
    segment: _Segment, alive: np.ndarray, query: np.ndarray, k: int, allowed_ids, excluded_ids
) -> list[VectorHit]:
    """Exact inner-product search over a segment's live vectors (a few hundred per write)."""
    mask = alive
    if allowed_ids is not None:
        mask = mask & np.isin(segment.ids, allowed_ids)
    elif excluded_ids is not None and len(excluded_ids):
        mask = mask & ~np.isin(segment.ids, excluded_ids)
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return []
    scores = segment.vectors[rows] @ query
    if len(rows) > k:
        top = np.argpartition(-scores, k - 1)[:k]
        rows, scores = rows[top], scores[top]
    return [VectorHit(int(segment.ids[r]), float(s)) for r, s in zip(rows, scores, strict=True)]


def _members(ordered: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which `values` are in the sorted array `ordered`: a binary search each, so a write's few
    hundred ids cost nothing against a million-id base (np.isin would sort them all)."""
    where = np.minimum(np.searchsorted(ordered, values), max(len(ordered) - 1, 0))
    return ordered[where] == values if len(ordered) else np.zeros(len(values), dtype=bool)


def _write_index(index, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def _index_ids(index) -> np.ndarray:
    """The ids stored in a FAISS index, sorted."""
    import faiss

    if index is None:
        return EMPTY_IDS
    if _is_flat(index):
        return np.sort(faiss.vector_to_array(index.id_map).astype(np.int64))
    invlists = index.invlists
    parts = [
        faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
        for i in range(invlists.nlist)
    ]
    return np.sort(np.concatenate(parts)).astype(np.int64) if parts else EMPTY_IDS


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
