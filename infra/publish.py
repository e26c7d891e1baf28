"""Atomic publishing: a file, or a new version of an index snapshot, appears whole or not at all.

Readers never see a half-written file: everything is written under a temporary name, flushed to
disk, then renamed into place (`os.replace` is atomic on POSIX). An index directory holds
immutable versions (`<prefix>-<n><suffix>`, a file or a folder) and `current.json`, which names
the live one; a writer publishes version n+1 and switches `current.json`, readers reload when the
version they hold is no longer current. FAISS, BM25 and the joined GGUF model all publish this way.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from infra.locks import file_lock

CURRENT = "current.json"
T = TypeVar("T")


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def atomic_write(target: Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)` creates the content at a temporary path (a file or a folder) beside `target`,
    which then replaces `target` in one step. A failed `write` leaves `target` untouched."""
    tmp = target.with_name(f".{target.name}.tmp")
    _remove(tmp)
    try:
        write(tmp)
        if tmp.is_file():
            fsync_path(tmp)
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    fsync_path(target.parent)


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write(target, lambda tmp: tmp.write_text(text))


class VersionedSnapshots:
    """The versions of one index in `directory`, named by `current.json` under `key` (e.g.
    {"version": 3, "file": "index-3.faiss", ...meta}). One writer at a time holds `lock()`."""

    def __init__(self, directory: Path, *, prefix: str, suffix: str = "", key: str = "file"):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix, self.suffix, self.key = prefix, suffix, key

    def lock(self):
        """The exclusive write lock: hold it across read-modify-publish."""
        return file_lock(self.directory / "write.lock")

    def current(self) -> dict:
        """The published metadata; version 0 naming no snapshot when nothing was published."""
        try:
            return json.loads((self.directory / CURRENT).read_text())
        except FileNotFoundError:
            return {"version": 0, self.key: None}

    def path(self, meta: dict) -> Path | None:
        return self.directory / meta[self.key] if meta.get(self.key) else None

    def publish(self, write: Callable[[Path], None] | None, **meta) -> dict:
        """Publish the next version: `write(path)` creates its snapshot (None publishes an empty
        version that names no snapshot), then `current.json` switches to it and older snapshots
        are removed (a reader that holds one open keeps it until it lets go). Call under `lock()`.
        """
        version = int(self.current()["version"]) + 1
        name = None
        if write is not None:
            name = f"{self.prefix}-{version}{self.suffix}"
            atomic_write(self.directory / name, write)
        published = {"version": version, self.key: name, **meta}
        atomic_write_text(self.directory / CURRENT, json.dumps(published))
        for old in self.directory.glob(f"{self.prefix}-*"):
            if old.name != name:
                _remove(old)
        return published

    def load(self, open_snapshot: Callable[[Path], T], attempts: int = 3) -> tuple[T | None, dict]:
        """(the opened current snapshot or None, its metadata). A writer may replace the snapshot
        between reading `current.json` and opening it: then read `current.json` again."""
        for _attempt in range(attempts):
            meta = self.current()
            path = self.path(meta)
            if path is None:
                return None, meta
            try:
                return open_snapshot(path), meta
            except (OSError, RuntimeError):  # faiss raises RuntimeError for a missing file
                if self.current()["version"] == meta["version"]:
                    raise
        raise RuntimeError(f"The snapshot in {self.directory} keeps being replaced while read")


SEGMENT_PREFIX = "delta"


class SegmentedSnapshots(VersionedSnapshots):
    """An immutable base snapshot plus small delta segments written on top of it, so a write costs
    time in proportion to what it changes, not to the whole index.

    `current.json` names the base (under `key`) and, under "segments", the [version, entries] of
    every delta written since, in order: a reader holds the base and the segments it has applied
    and reads only the new ones. A writer under `lock()` either appends a segment
    (`append_segment`) or publishes a new base that folds every segment in (`publish`). A merge
    folds a prefix of the segments into a new base built without the write lock (`commit_merge`
    takes it only to switch): segments written meanwhile stay, on top of the new base, so no write
    is lost. Files that `current.json` no longer names are removed when it switches."""

    def __init__(
        self,
        directory: Path,
        *,
        prefix: str,
        suffix: str = "",
        key: str = "file",
        segment_suffix: str = ".npz",
    ):
        super().__init__(directory, prefix=prefix, suffix=suffix, key=key)
        self.segment_suffix = segment_suffix

    def merge_lock(self):
        """Held by the one merge that may run at a time; a second attempt raises LockBusy."""
        return file_lock(self.directory / "merge.lock", blocking=False)

    def segment_path(self, version: int) -> Path:
        return self.directory / f"{SEGMENT_PREFIX}-{version}{self.segment_suffix}"

    @staticmethod
    def segments(meta: dict) -> list[tuple[int, int]]:
        """[(version, entries)] of the published segments, oldest first."""
        return [(int(v), int(n)) for v, n in meta.get("segments", [])]

    @classmethod
    def pending(cls, meta: dict) -> int:
        """Entries (ids added or removed) waiting in segments for a merge."""
        return sum(n for _v, n in cls.segments(meta))

    def publish(self, write: Callable[[Path], None] | None, **meta) -> dict:
        """A new base holding everything (every segment folded in). Call under `lock()`."""
        published = super().publish(write, **meta, segments=[])
        self._remove_unnamed(published)
        return published

    def append_segment(self, write: Callable[[Path], None], entries: int, **meta) -> dict:
        """Publish the next version as the current base plus one more segment, written by
        `write(path)`; `entries` counts the ids it adds or removes. Call under `lock()`."""
        current = self.current()
        version = int(current["version"]) + 1
        atomic_write(self.segment_path(version), write)
        published = {
            **current,
            **meta,
            "version": version,
            "segments": [*map(list, self.segments(current)), [version, entries]],
        }
        atomic_write_text(self.directory / CURRENT, json.dumps(published))
        return published

    def commit_merge(self, built: Path, planned: dict, **meta) -> dict | None:
        """Make `built` (a snapshot of `planned`'s base with all of `planned`'s segments folded in)
        the base, keeping the segments published since `planned`. Returns None, and drops `built`,
        when the base changed meanwhile (a clear, or a writer's own fold): the merge is moot."""
        with self.lock():
            current = self.current()
            folded = self.segments(planned)
            if current.get(self.key) != planned.get(self.key) or (
                self.segments(current)[: len(folded)] != folded
            ):
                _remove(built)
                return None
            version = int(current["version"]) + 1
            name = f"{self.prefix}-{version}{self.suffix}"
            os.replace(built, self.directory / name)
            fsync_path(self.directory)
            remaining = self.segments(current)[len(folded) :]
            published = {
                **current,
                **meta,
                "version": version,
                self.key: name,
                "segments": [list(s) for s in remaining],
            }
            atomic_write_text(self.directory / CURRENT, json.dumps(published))
            self._remove_unnamed(published)
            return published

    def merge_scratch(self) -> Path:
        """A fresh path for a merge to build its snapshot at, out of the writers' way (a hidden
        name no cleanup touches); leftovers of a merge that died are removed first. Call under
        `merge_lock()`."""
        for stale in self.directory.glob(".merge-*"):
            _remove(stale)
        return self.directory / f".merge-{os.getpid()}{self.suffix}"

    def _remove_unnamed(self, published: dict) -> None:
        keep = {published.get(self.key)} | {
            self.segment_path(v).name for v, _n in self.segments(published)
        }
        for pattern in (f"{self.prefix}-*", f"{SEGMENT_PREFIX}-*"):
            for old in self.directory.glob(pattern):
                if old.name not in keep:
                    _remove(old)
