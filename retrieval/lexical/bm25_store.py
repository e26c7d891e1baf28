"""BM25 index (bm25s) persisted on disk and kept in step with the vector index, with a write cost
that follows the write, not the corpus.

The source of truth is `chunks.sqlite3`, one row of terms per chunk (which also keeps the chunk's
text, so reranking and near-duplicate suppression need nothing from other apps). The searchable
index is a bm25s base snapshot built from it plus one small segment per write since: the ids the
write removes or replaces and the terms of the chunks it adds. A write costs the tokenisation of its
own chunks and a segment file; a merge (`merge()`, in the background, see `retrieval.tasks`)
rebuilds the base from `chunks.sqlite3` without holding the write lock, keeping the segments
written meanwhile on top.

Scores stay BM25 over the live corpus. bm25s precomputes each (term, chunk) score with the base's
own statistics, so once segments exist a search scores with the live ones instead: N, the average
length and each query term's document frequency over base + segments less the chunks removed or
replaced since (tombstones). Base chunks' term frequencies are recovered exactly from bm25s's
stored scores and their lengths (kept beside the snapshot), so base and segment chunks are scored by
one formula with one set of statistics: the same scores as a fresh build, up to float32 rounding,
and nothing is approximate until a merge. With no segments, bm25s's own scores are used as they are.

Layout (the same discipline as the FAISS store, `infra.publish.SegmentedSnapshots`):
`bm25-<version>/` immutable base snapshots, `delta-<version>.json` segments, `current.json`
switched atomically after what it names is complete, `write.lock` held by the one writer,
`merge.lock` by the one merge. Readers read only the segments they lack.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from infra.locks import LockBusy
from infra.publish import SegmentedSnapshots
from retrieval.idsets import IdSet, as_array
from retrieval.index.base import VectorHit
from retrieval.lexical.bm25_build import build_bm25s
from retrieval.lexical.tokenize import count_cjk, is_cjk, tokenize

# A script (CJK or alphabetic) counts as present in the corpus when it makes up at least this
# share of the corpus's terms; a few quoted English names in Chinese documents do not make them an
# English corpus.
SCRIPT_PRESENT = 0.05


def script_overlap(terms: Sequence[str], cjk_share: float) -> float:
    """Share of the query's terms written in a script the corpus uses (0..1), from the corpus's
    share of CJK terms; every lexical store reports it the same way."""
    cjk_present = cjk_share >= SCRIPT_PRESENT
    other_present = 1 - cjk_share >= SCRIPT_PRESENT
    return sum(cjk_present if is_cjk(t) else other_present for t in terms) / len(terms)


EMPTY_IDS = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class LexicalResult:
    hits: list[VectorHit]
    script_overlap: float  # share of the query's terms written in a script the corpus uses (0..1)


class _Docs(NamedTuple):
    """Chunks as the index sees them: ids, lengths in terms and how many of those are CJK."""

    ids: np.ndarray
    lengths: np.ndarray
    cjk: np.ndarray

    @classmethod
    def of(cls, ids: Sequence[int], terms: Sequence[str]) -> _Docs:
        """From each chunk's space-separated terms (as `chunks.sqlite3` stores them)."""
        n = len(terms)
        return cls(
            np.asarray(ids, dtype=np.int64),
            np.fromiter((t.count(" ") + 1 if t else 0 for t in terms), dtype=np.int64, count=n),
            np.fromiter(map(count_cjk, terms), dtype=np.int64, count=n),
        )


class _Segment(NamedTuple):
    killed: np.ndarray  # ids removed or replaced by this write
    docs: _Docs  # the chunks it adds
    postings: dict[str, tuple[np.ndarray, np.ndarray]]  # term -> (rows in docs, term frequency)


class _View(NamedTuple):
    """What a reader searches: the base and the segments applied on top, with the live corpus's
    totals. Immutable: a new version makes a new view, so other threads' searches keep theirs."""

    retriever: object | None  # bm25s.BM25 over the base
    meta: dict
    base: _Docs  # by bm25s document position, sorted by id
    dead: np.ndarray  # per base position: removed or replaced by a segment
    segments: tuple[_Segment, ...] = ()
    alive: tuple[np.ndarray, ...] = ()  # per segment: which of its chunks no later one replaced
    count: int = 0
    terms: int = 0  # live terms in all, for the average length
    cjk_terms: int = 0

    @classmethod
    def of_base(cls, retriever, meta: dict, base: _Docs) -> _View:
        return cls(
            retriever,
            meta,
            base,
            np.zeros(len(base.ids), dtype=bool),
            count=len(base.ids),
            terms=int(base.lengths.sum()),
            cjk_terms=int(base.cjk.sum()),
        )

    @property
    def cjk_share(self) -> float:
        if not self.segments:
            return float(self.meta.get("cjk_share", 0.0))
        return self.cjk_terms / self.terms if self.terms else 0.0

    def applied(self, segment: _Segment) -> _View:
        killed = segment.killed
        count, terms, cjk = self.count, self.terms, self.cjk_terms
        dead = self.dead
        where = np.searchsorted(self.base.ids, killed)
        inside = where < len(self.base.ids)
        where = where[inside]
        where = where[(self.base.ids[where] == killed[inside]) & ~dead[where]]
        if len(where):
            dead = dead.copy()
            dead[where] = True
            count -= len(where)
            terms -= int(self.base.lengths[where].sum())
            cjk -= int(self.base.cjk[where].sum())
        alive = []
        for previous, live in zip(self.segments, self.alive, strict=True):
            gone = live & np.isin(previous.docs.ids, killed)
            if gone.any():
                count -= int(gone.sum())
                terms -= int(previous.docs.lengths[gone].sum())
                cjk -= int(previous.docs.cjk[gone].sum())
                live = live & ~gone
            alive.append(live)
        docs = segment.docs
        return self._replace(
            dead=dead,
            segments=(*self.segments, segment),
            alive=(*alive, np.ones(len(docs.ids), dtype=bool)),
            count=count + len(docs.ids),
            terms=terms + int(docs.lengths.sum()),
            cjk_terms=cjk + int(docs.cjk.sum()),
        )

    def live_ids(self) -> np.ndarray:
        parts = [self.base.ids[~self.dead]]
        parts += [s.docs.ids[a] for s, a in zip(self.segments, self.alive, strict=True)]
        return np.sort(np.concatenate(parts))


class BM25Store:
    in_database = False  # files on disk: see PostgresBM25Store for the one in the database

    def __init__(
        self,
        path: str,
        k1: float = 1.2,
        b: float = 0.75,
        merge_ratio: float = 0.1,
        merge_min: int = 2_000,
        max_segments: int = 500,
    ) -> None:
        """A merge is due when the segments hold more than `merge_ratio` of the base (at least
        `merge_min` chunks) or number `max_segments`."""
        self.path = Path(path)
        self._snapshots = SegmentedSnapshots(
            self.path, prefix="bm25", key="dir", segment_suffix=".json"
        )
        self.k1, self.b = k1, b
        self.merge_ratio, self.merge_min, self.max_segments = merge_ratio, merge_min, max_segments
        self._read_lock = threading.Lock()
        self._view: _View | None = None

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
        """Remove and add chunks, then publish them (unless `publish` is False: bulk loads store
        every batch and call `publish()` once). Idempotent: an id added twice is stored once."""
        if len(add_ids) != len(texts):
            raise ValueError("add_ids and texts must have the same length")
        rows = [(int(i), t, " ".join(tokenize(t))) for i, t in zip(add_ids, texts, strict=True)]
        killed = np.union1d(
            np.asarray(remove_ids, dtype=np.int64), np.asarray(add_ids, dtype=np.int64)
        )
        with self._snapshots.lock():
            with closing(self._db()) as db, db:
                db.executemany("DELETE FROM chunks WHERE id = ?", [(int(i),) for i in remove_ids])
                db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?)", rows)
            if not publish or len(killed) == 0:
                return
            meta = self._snapshots.current()
            if self._fold_inline(meta, len(killed)):
                live = np.setdiff1d(self._live_ids(meta), killed, assume_unique=True)
                self._rebuild(np.union1d(live, [r[0] for r in rows]))
                return
            segment = {
                "killed": killed.tolist(),
                "ids": [r[0] for r in rows],
                "terms": [r[2] for r in rows],
            }
            self._snapshots.append_segment(
                lambda path: path.write_text(json.dumps(segment, ensure_ascii=False)), len(killed)
            )

    def _fold_inline(self, meta: dict, entries: int) -> bool:
        """Whether this write rebuilds the base itself: when there is none yet, when it predates
        segments (an index written before them), or when the segments would outgrow it."""
        if meta.get("dir") is None or "segments" not in meta:
            return True
        return self._snapshots.pending(meta) + entries >= meta["count"]

    def publish(self) -> None:
        with self._snapshots.lock():
            self._rebuild()

    def clear(self) -> None:
        with self._snapshots.lock():
            with closing(self._db()) as db, db:
                db.execute("DELETE FROM chunks")
            self._rebuild()

    def merge_due(self) -> bool:
        """Whether enough is pending that a background `merge()` should run."""
        meta = self._snapshots.current()
        segments = self._snapshots.segments(meta)
        threshold = max(self.merge_min, self.merge_ratio * meta.get("count", 0))
        return bool(segments) and (
            self._snapshots.pending(meta) >= threshold or len(segments) >= self.max_segments
        )

    def merge(self) -> bool:
        """Rebuild the base from `chunks.sqlite3`, folding in the published segments, without
        holding the write lock; writes made meanwhile stay as segments on top (they replace what
        they touch, so the base may hold their rows too). Idempotent: False when there was
        nothing to merge, another merge is running, or a writer folded the segments first."""
        try:
            with self._snapshots.merge_lock():
                return self._merge(self._snapshots.current())
        except LockBusy:
            return False

    def _merge(self, planned: dict) -> bool:
        """Rebuild the base and switch to it, dropping the segments `planned` names and keeping any
        published since. Call under the merge lock."""
        if not self._snapshots.segments(planned):
            return False
        try:
            write, meta = self._base(self._live_ids(planned))
        except FileNotFoundError:  # a writer folded them inline meanwhile
            return False
        built = self._snapshots.merge_scratch()
        write(built)
        return self._snapshots.commit_merge(built, planned, **meta) is not None

    def _rebuild(self, ids: np.ndarray | None = None) -> None:
        """Publish a base built from the stored chunks `ids` (all when None). Call under the
        write lock."""
        write, meta = self._base(ids)
        self._snapshots.publish(write, **meta)

    def _live_ids(self, meta: dict) -> np.ndarray:
        """The ids `meta`'s version makes searchable. A fold keeps to them, not to every row of
        `chunks.sqlite3`: a writer that died between storing its rows and publishing its segment
        left rows nobody could search, and a fold does not change what is searchable."""
        path = self._snapshots.path(meta)
        base = np.load(path / "ids.npy") if path is not None else EMPTY_IDS
        killed_later = EMPTY_IDS
        added = []
        for version, _n in reversed(self._snapshots.segments(meta)):
            data = json.loads(self._snapshots.segment_path(version).read_text())
            ids = np.asarray(data["ids"], dtype=np.int64)
            added.append(ids[~np.isin(ids, killed_later)])
            killed_later = np.union1d(killed_later, np.asarray(data["killed"], dtype=np.int64))
        base = np.setdiff1d(base, killed_later, assume_unique=True)
        return np.unique(np.concatenate([base, *added]))

    def _base(self, ids: np.ndarray | None = None):
        """(a function writing a bm25s snapshot of the stored chunks `ids`, all when None, into a
        new folder; that snapshot's metadata). Rows stream from SQLite into the numpy builder:
        a merge at a million chunks holds arrays, not a million lists of strings."""
        keep = None if ids is None else set(ids.tolist())
        kept: list[int] = []
        cjk: list[int] = []

        def terms(db):
            for chunk_id, chunk_terms in db.execute("SELECT id, terms FROM chunks ORDER BY id"):
                if keep is None or chunk_id in keep:
                    kept.append(chunk_id)
                    cjk.append(count_cjk(chunk_terms))
                    yield chunk_terms

        with closing(self._db()) as db:
            retriever, lengths = build_bm25s(terms(db), k1=self.k1, b=self.b)
        docs = _Docs(np.asarray(kept, dtype=np.int64), lengths, np.asarray(cjk, dtype=np.int64))
        total = int(docs.lengths.sum())

        def write(folder: Path) -> None:
            folder.mkdir()
            np.save(folder / "ids.npy", docs.ids)
            np.save(folder / "lengths.npy", docs.lengths)
            np.save(folder / "cjk.npy", docs.cjk)
            if retriever is not None:
                retriever.save(str(folder), show_progress=False)

        return write, {
            "count": len(docs.ids),
            "cjk_share": int(docs.cjk.sum()) / total if total else 0.0,
        }

    # -- reading ----------------------------------------------------------------------------------
    @staticmethod
    def _open(folder: Path) -> tuple[object | None, _Docs]:
        import bm25s

        ids = np.load(folder / "ids.npy")
        if (folder / "lengths.npy").exists():
            docs = _Docs(ids, np.load(folder / "lengths.npy"), np.load(folder / "cjk.npy"))
        else:  # a base written before segments: no write has come since, so no segments either
            docs = _Docs(ids, np.zeros(len(ids), np.int64), np.zeros(len(ids), np.int64))
        return (bm25s.BM25.load(str(folder)) if len(ids) else None), docs

    def _open_segment(self, version: int) -> _Segment:
        data = json.loads(self._snapshots.segment_path(version).read_text())
        docs = _Docs.of(data["ids"], data["terms"])
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for row, terms in enumerate(data["terms"]):
            for term, tf in Counter(terms.split(" ") if terms else ()).items():
                rows, tfs = postings.setdefault(term, ([], []))
                rows.append(row)
                tfs.append(tf)
        return _Segment(
            np.asarray(data["killed"], dtype=np.int64),
            docs,
            {t: (np.asarray(r), np.asarray(f, dtype=np.float64)) for t, (r, f) in postings.items()},
        )

    def _load(self, meta: dict, view: _View | None) -> _View:
        """The view of `meta`, reusing `view` when it holds the same base (then only the segments
        it lacks are read). Raises FileNotFoundError when a newer version removed a file `meta`
        names."""
        versions = [v for v, _n in self._snapshots.segments(meta)]
        if (
            view is None
            or view.meta.get("dir") != meta.get("dir")
            or (
                [v for v, _n in self._snapshots.segments(view.meta)]
                != versions[: len(view.segments)]
            )
        ):
            path = self._snapshots.path(meta)
            if path is None:
                view = _View.of_base(None, meta, _Docs(EMPTY_IDS, EMPTY_IDS, EMPTY_IDS))
            else:
                retriever, docs = self._open(path)
                view = _View.of_base(retriever, meta, docs)
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
                except FileNotFoundError:
                    if self._snapshots.current()["version"] == meta["version"]:
                        raise
                    continue  # a newer version replaced those files: read current.json again
                return self._view
        raise RuntimeError(f"The BM25 index in {self.path} keeps being replaced while read")

    def search(
        self,
        *,
        query: str,
        k: int,
        allowed_ids: IdSet | None = None,
        excluded_ids: IdSet | None = None,
    ) -> LexicalResult:
        """Top `k` chunks by BM25 among `allowed_ids` (all when None) less `excluded_ids`; chunks
        sharing no term with the query are never returned."""
        allowed_ids, excluded_ids = as_array(allowed_ids), as_array(excluded_ids)
        view = self._current()
        terms = tokenize(query)
        if view.count == 0 or not terms:
            return LexicalResult(hits=[], script_overlap=0.0)
        overlap = script_overlap(terms, view.cjk_share)
        scored = self._scores(view, terms)
        if scored is None:
            return LexicalResult(hits=[], script_overlap=overlap)
        ids, scores = scored
        if allowed_ids is not None:
            scores = np.where(np.isin(ids, allowed_ids), scores, 0.0)
        if excluded_ids is not None and len(excluded_ids):
            scores = np.where(np.isin(ids, excluded_ids), 0.0, scores)
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > k:
            candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        # Best first; equal scores by id, as a fresh build orders them.
        order = candidates[np.lexsort((ids[candidates], -scores[candidates]))]
        return LexicalResult(
            hits=[VectorHit(int(ids[i]), float(scores[i])) for i in order], script_overlap=overlap
        )

    def _scores(self, view: _View, terms: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """(ids, BM25 score of each) for every stored chunk, 0 for removed ones; None when no
        query term occurs in the live corpus."""
        retriever = view.retriever
        if not view.segments:  # the base alone: bm25s's precomputed scores are the live ones
            known = [t for t in terms if retriever is not None and t in retriever.vocab_dict]
            if not known:
                return None
            return view.base.ids, np.asarray(retriever.get_scores(known), dtype=np.float32)
        return self._live_scores(view, terms)

    def _live_scores(self, view: _View, terms: list[str]):
        """BM25 with the live corpus's statistics over the base and the segments (module
        docstring). Base term frequencies come back from bm25s's stored scores: bm25s stores
        idf_base · tf / (tf + K_base) per (term, chunk) (its "lucene" variant)."""
        k1, b = self.k1, self.b
        avgdl = view.terms / view.count
        base = view.base
        retriever = view.retriever
        base_scores = np.zeros(len(base.ids))
        segment_scores = [np.zeros(len(s.docs.ids)) for s in view.segments]
        if retriever is not None:
            stored = retriever.scores
            base_n = len(base.ids)
            base_avgdl = base.lengths.mean()
        known = False
        for term in terms:
            rows = None
            df = 0
            if retriever is not None and term in retriever.vocab_dict:
                token = retriever.vocab_dict[term]
                start, end = stored["indptr"][token], stored["indptr"][token + 1]
                rows = stored["indices"][start:end]
                df += int((~view.dead[rows]).sum())
            found = []
            for segment, alive, scores in zip(
                view.segments, view.alive, segment_scores, strict=True
            ):
                posting = segment.postings.get(term)
                if posting is not None:
                    df += int(alive[posting[0]].sum())
                    found.append((segment, posting, scores))
            if df == 0:
                continue
            known = True
            idf = math.log(1 + (view.count - df + 0.5) / (df + 0.5))
            if rows is not None and len(rows):
                base_df = end - start
                base_idf = np.float32(math.log(1 + (base_n - base_df + 0.5) / (base_df + 0.5)))
                share = np.minimum(stored["data"][start:end] / base_idf, 1 - 1e-6)  # tf/(tf+K)
                lengths = base.lengths[rows]
                base_k = k1 * (1 - b + b * lengths / base_avgdl)
                tf = np.maximum(np.rint(share * base_k / (1 - share)), 1.0)
                norm = k1 * (1 - b + b * lengths / avgdl)
                base_scores[rows] += idf * tf / (tf + norm)
            for segment, (posting_rows, tf), scores in found:
                norm = k1 * (1 - b + b * segment.docs.lengths[posting_rows] / avgdl)
                scores[posting_rows] += idf * tf / (tf + norm)
        if not known:
            return None
        base_scores[view.dead] = 0.0
        for scores, alive in zip(segment_scores, view.alive, strict=True):
            scores[~alive] = 0.0
        ids = np.concatenate([base.ids, *(s.docs.ids for s in view.segments)])
        return ids, np.concatenate([base_scores, *segment_scores])

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
        return self._current().count

    def ids(self) -> np.ndarray:
        return self._current().live_ids()
