"""FAISS index persisted on disk, safe with several processes.

Layout of the index directory:
- `index-<version>.faiss`: one immutable snapshot per version;
- `current.json`: {"version", "file", "model", "dimension"}, replaced atomically after the snapshot
  it names is fully written, so a reader always sees a complete, matching pair;
- `write.lock`: an exclusive `flock` held for the whole read-modify-write, so there is exactly one
  writer at a time across every web and worker process.

Readers compare `current.json`'s version on each search and reload when it changed, so a web process
picks up vectors written by a worker without a restart.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from retrieval.index.base import IndexMismatch, VectorHit, VectorIndex

CURRENT = "current.json"


class FaissIndexStore(VectorIndex):
    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._loaded_version: int | None = None
        self._index = None
        self._meta: dict = {}
        self._read_lock = threading.Lock()

    # -- metadata -------------------------------------------------------------------------------
    def _read_meta(self) -> dict:
        try:
            return json.loads((self.path / CURRENT).read_text())
        except FileNotFoundError:
            return {"version": 0, "file": None, "model": None, "dimension": None}

    @staticmethod
    def _check_model(meta: dict, model: str, dimension: int | None) -> None:
        if meta["model"] is None:
            return
        if meta["model"] != model or (dimension is not None and meta["dimension"] != dimension):
            raise IndexMismatch(
                f"The vector index was built with {meta['model']} ({meta['dimension']} dims) but "
                f"the configured embedder is {model} ({dimension} dims); "
                "run `manage.py rebuild_index`."
            )

    def _load_file(self, meta: dict):
        import faiss

        return faiss.read_index(str(self.path / meta["file"]))

    # -- writing ----------------------------------------------------------------------------------
    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        with open(self.path / "write.lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

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
        with self._exclusive():
            meta = self._read_meta()
            self._check_model(meta, model, dimension)
            if meta["file"]:
                index = self._load_file(meta)
            elif dimension is None:
                return  # nothing stored yet and nothing to add
            else:
                index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
            if len(remove):
                index.remove_ids(remove)
            if len(add):
                # Re-adding an id that is already present would store it twice; remove first.
                index.remove_ids(add)
                index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), add)
            self._publish(index, meta, model, index.d)

    def rebuild(self, *, model: str, ids, vectors: np.ndarray | None) -> None:
        """Replace the whole index with `ids`/`vectors`, whatever model built the old one (the way
        out of an IndexMismatch). Readers see the old index until the new one is published."""
        import faiss

        add = np.asarray(ids, dtype=np.int64)
        with self._exclusive():
            meta = self._read_meta()
            if vectors is None or len(add) == 0:
                dimension = meta["dimension"] if meta["model"] == model else None
                if dimension is None:
                    self._publish_empty(meta)
                    return
            else:
                dimension = int(vectors.shape[1])
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
            if len(add):
                index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), add)
            self._publish(index, meta, model, dimension)

    def _publish_empty(self, old_meta: dict) -> None:
        meta = {"version": int(old_meta["version"]) + 1, "file": None, "model": None,
                "dimension": None}  # fmt: skip
        tmp_meta = self.path / f".{CURRENT}.tmp"
        tmp_meta.write_text(json.dumps(meta))
        os.replace(tmp_meta, self.path / CURRENT)
        for old in self.path.glob("index-*.faiss"):
            old.unlink(missing_ok=True)

    def describe(self) -> dict:
        """The published version's model, dimension and vector count, for consistency checks."""
        index, meta = self._current()
        return {
            "version": meta.get("version", 0),
            "model": meta.get("model"),
            "dimension": meta.get("dimension"),
            "count": 0 if index is None else int(index.ntotal),
        }

    def _publish(self, index, old_meta: dict, model: str, dimension: int) -> None:
        import faiss

        version = int(old_meta["version"]) + 1
        file_name = f"index-{version}.faiss"
        tmp = self.path / f".{file_name}.tmp"
        faiss.write_index(index, str(tmp))
        _fsync_path(tmp)
        os.replace(tmp, self.path / file_name)
        meta = {"version": version, "file": file_name, "model": model, "dimension": dimension}
        tmp_meta = self.path / f".{CURRENT}.tmp"
        tmp_meta.write_text(json.dumps(meta))
        _fsync_path(tmp_meta)
        os.replace(tmp_meta, self.path / CURRENT)
        _fsync_path(self.path)
        # Older snapshots are no longer named by current.json; readers that hold one open keep it.
        for old in self.path.glob("index-*.faiss"):
            if old.name != file_name:
                old.unlink(missing_ok=True)

    # -- reading ----------------------------------------------------------------------------------
    def _current(self):
        meta = self._read_meta()
        with self._read_lock:
            if meta["version"] != self._loaded_version:
                try:
                    self._index = self._load_file(meta) if meta["file"] else None
                except RuntimeError:
                    # The snapshot was replaced between reading meta and opening it: retry once.
                    meta = self._read_meta()
                    self._index = self._load_file(meta) if meta["file"] else None
                self._meta = meta
                self._loaded_version = meta["version"]
            return self._index, self._meta

    def search(self, *, model: str, vector: np.ndarray, k: int) -> list[VectorHit]:
        index, meta = self._current()
        if index is None or index.ntotal == 0:
            return []
        self._check_model(meta, model, int(vector.shape[-1]))
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        scores, ids = index.search(query, min(k, index.ntotal))
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
        return faiss.vector_to_array(index.id_map).astype(np.int64)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
