"""BM25 index (bm25s) persisted on disk and kept in step with the vector index.

BM25 statistics (document frequencies, average length) depend on the whole corpus, so bm25s builds
its index in one pass. We keep the source of truth incrementally, one row of terms per chunk in
`chunks.sqlite3` (which also keeps the chunk's text, so reranking and near-duplicate suppression
need nothing from other apps), and rebuild the bm25s snapshot from it on every write: adding or
removing a document
costs a re-tokenisation of that document only, plus a rebuild from stored terms (seconds at 10^5
chunks, about a minute at 10^6).

Layout (the same discipline as the FAISS store): `bm25-<version>/` immutable snapshots,
`current.json` switched atomically after the snapshot is complete, `write.lock` held by the one
writer. Readers reload when `current.json` names a new version.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from infra.publish import VersionedSnapshots
from retrieval.idsets import IdSet, as_array
from retrieval.index.base import VectorHit
from retrieval.lexical.tokenize import is_cjk, tokenize

# A script (CJK or alphabetic) counts as present in the corpus when it makes up at least this
# share of the corpus's terms; a few quoted English names in Chinese documents do not make them an
# English corpus.
SCRIPT_PRESENT = 0.05


@dataclass(frozen=True)
class LexicalResult:
    hits: list[VectorHit]
    script_overlap: float  # share of the query's terms written in a script the corpus uses (0..1)


class BM25Store:
    in_database = False  # files on disk: see PostgresBM25Store for the one in the database

    def __init__(self, path: str, k1: float = 1.2, b: float = 0.75) -> None:
        self.path = Path(path)
        self._snapshots = VersionedSnapshots(self.path, prefix="bm25", key="dir")
        self.k1, self.b = k1, b
        self._read_lock = threading.Lock()
        self._loaded_version: int | None = None
        self._retriever = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._cjk_share = 0.0

    # -- writing ----------------------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path / "chunks.sqlite3", timeout=60)
        db.execute(
            "CREATE TABLE IF NOT EXISTS chunks "
            "(id INTEGER PRIMARY KEY, text TEXT NOT NULL, terms TEXT NOT NULL)"
        )
        return db

    def update(
        self,
        *,
        remove_ids: Sequence[int] = (),
        add_ids: Sequence[int] = (),
        texts: Sequence[str] = (),
        publish: bool = True,
    ) -> None:
        """Remove and add chunks, then publish a new snapshot (unless `publish` is False: bulk
        loads store every batch and call `publish()` once). Idempotent: an id added twice is
        stored once."""
        if len(add_ids) != len(texts):
            raise ValueError("add_ids and texts must have the same length")
        rows = [(int(i), t, " ".join(tokenize(t))) for i, t in zip(add_ids, texts, strict=True)]
        with self._snapshots.lock():
            with closing(self._db()) as db, db:
                db.executemany("DELETE FROM chunks WHERE id = ?", [(int(i),) for i in remove_ids])
                db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?)", rows)
            if publish:
                self._rebuild()

    def publish(self) -> None:
        with self._snapshots.lock():
            self._rebuild()

    def clear(self) -> None:
        with self._snapshots.lock():
            with closing(self._db()) as db, db:
                db.execute("DELETE FROM chunks")
            self._rebuild()

    def _rebuild(self) -> None:
        import bm25s

        with closing(self._db()) as db:
            rows = db.execute("SELECT id, terms FROM chunks ORDER BY id").fetchall()
        cjk = total = 0
        for _id, terms in rows:
            for term in terms.split():
                total += 1
                cjk += is_cjk(term)

        def write(folder: Path) -> None:
            folder.mkdir()
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            np.save(folder / "ids.npy", ids)
            if rows:
                retriever = bm25s.BM25(k1=self.k1, b=self.b)
                retriever.index(
                    [r[1].split(" ") if r[1] else [] for r in rows], show_progress=False
                )
                retriever.save(str(folder))

        self._snapshots.publish(write, count=len(rows), cjk_share=cjk / total if total else 0.0)

    # -- reading ----------------------------------------------------------------------------------
    @staticmethod
    def _open(folder: Path):
        import bm25s

        ids = np.load(folder / "ids.npy")
        return (bm25s.BM25.load(str(folder)) if len(ids) else None), ids

    def _current(self):
        version = self._snapshots.current()["version"]
        with self._read_lock:
            if version != self._loaded_version:
                opened, meta = self._snapshots.load(self._open)
                self._retriever, self._ids = opened or (None, np.zeros(0, dtype=np.int64))
                self._cjk_share = float(meta.get("cjk_share", 0.0))
                self._loaded_version = meta["version"]
            return self._retriever, self._ids

    def search(
        self,
        *,
        query: str,
        k: int,
        allowed_ids: IdSet | None = None,
        excluded_ids: IdSet | None = None,
    ) -> LexicalResult:
        """Top `k` chunks by BM25 among `allowed_ids` (all when None) less `excluded_ids`; chunks
        sharing no term with the query are never returned. A lazy query of ids is read here."""
        allowed_ids, excluded_ids = as_array(allowed_ids), as_array(excluded_ids)
        retriever, ids = self._current()
        terms = tokenize(query)
        if retriever is None or not terms:
            return LexicalResult(hits=[], script_overlap=0.0)
        cjk_present = self._cjk_share >= SCRIPT_PRESENT
        other_present = 1 - self._cjk_share >= SCRIPT_PRESENT
        overlap = sum(cjk_present if is_cjk(t) else other_present for t in terms) / len(terms)
        known = [t for t in terms if t in retriever.vocab_dict]
        if not known:
            return LexicalResult(hits=[], script_overlap=overlap)
        scores = np.asarray(retriever.get_scores(known), dtype=np.float32)
        if allowed_ids is not None:
            scores = np.where(np.isin(ids, allowed_ids), scores, 0.0)
        if excluded_ids is not None and len(excluded_ids):
            scores = np.where(np.isin(ids, excluded_ids), 0.0, scores)
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return LexicalResult(
            hits=[VectorHit(int(ids[i]), float(scores[i])) for i in order], script_overlap=overlap
        )

    def texts(self, ids: Sequence[int]) -> dict[int, str]:
        """Stored text of each chunk id (ids not stored are absent)."""
        if not ids:
            return {}
        with closing(self._db()) as db:
            marks = ",".join("?" * len(ids))
            rows = db.execute(
                f"SELECT id, text FROM chunks WHERE id IN ({marks})", [int(i) for i in ids]
            )
            return dict(rows.fetchall())

    def count(self) -> int:
        return len(self._current()[1])

    def ids(self) -> np.ndarray:
        return self._current()[1].copy()
