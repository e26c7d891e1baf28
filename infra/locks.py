"""Cross-process file locks: one writer at a time, in any process on the machine (or on a shared
volume), released by the kernel when the holder dies so a killed process never leaves one held."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LockBusy(Exception):
    """Another process holds the lock (raised only by a non-blocking attempt)."""


@contextmanager
def lock_or_raise(path: Path, error: Exception) -> Iterator[None]:
    """Hold the lock at `path` without waiting; raise `error` when another process holds it."""
    try:
        with file_lock(path, blocking=False):
            yield
    except LockBusy:
        raise error from None


@contextmanager
def file_lock(path: Path, *, blocking: bool = True) -> Iterator[None]:
    """Hold an exclusive `flock` on `path` (created if missing) for the duration of the block.
    `blocking=False` raises LockBusy at once instead of waiting for the holder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            raise LockBusy(f"{path} is held by another process") from None
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
