"""Stored files (Django's storage API, `STORAGES["default"]`) as local files, for the code that
needs a path: the parse sandbox hands one to a child process, pdfium and Pillow open one.

The store may be a folder on this machine or one every machine mounts (FileSystemStorage: its
own path is used as it is) or an S3-compatible store with no path at all (the file is
downloaded). Nothing here assumes the file was written on this machine.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.files.storage import Storage

BLOCK = 1024 * 1024


def storage_path(storage: Storage, name: str) -> Path | None:
    """The file's own path where the store has one (a file system), else None."""
    try:
        return Path(storage.path(name))
    except NotImplementedError:
        return None


@contextmanager
def local_file(storage: Storage, name: str) -> Iterator[Path]:
    """A local path holding stored file `name` for the duration of the block: the store's own
    path, or a temporary copy (same base name, so its suffix still names its type) deleted
    afterwards. Raises FileNotFoundError when the store has no such file."""
    path = storage_path(storage, name)
    if path is not None:
        if not path.is_file():
            raise FileNotFoundError(f"{name} is not in the store")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="kbqa-stored-") as folder:
        copy = Path(folder) / Path(name).name
        download(storage, name, copy)
        yield copy


def cached_file(storage: Storage, name: str, cache: Path) -> Path:
    """A local path holding stored file `name` that outlives the call, for readers that come back
    to the same file (the source viewer renders page after page of one PDF): the store's own
    path, or a copy at `cache`, downloaded once. `cache` must name the content (its hash), so a
    copy is never stale; it is written whole before it appears, so two processes may race."""
    path = storage_path(storage, name)
    if path is not None:
        return path
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        handle, draft = tempfile.mkstemp(dir=cache.parent, suffix=".part")
        os.close(handle)
        try:
            download(storage, name, Path(draft))
            Path(draft).replace(cache)
        finally:
            Path(draft).unlink(missing_ok=True)
    return cache


def download(storage: Storage, name: str, target: Path) -> None:
    """Copy stored file `name` to `target`; FileNotFoundError when the store has no such file
    (checked first: S3 clients report a missing key as their own error type)."""
    if not storage.exists(name):
        raise FileNotFoundError(f"{name} is not in the store")
    with storage.open(name, "rb") as source, target.open("wb") as out:
        shutil.copyfileobj(source, out, BLOCK)
