"""A local or mounted folder (NFS, SMB): every supported file under it, recursively. A file's
stamp is its modification time and size, so an unchanged folder is synced by `stat` alone."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ingestion.parsers import SUPPORTED_SUFFIXES
from ingestion.sources.base import Entry, SourceBackend, SourceError


class FolderSource(SourceBackend):
    def __init__(self, path: str) -> None:
        self.root = Path(path).expanduser()

    def entries(self) -> Iterator[Entry]:
        if not self.root.is_dir():
            raise SourceError(f"The folder {self.root} does not exist or is not a folder.")
        for directory, subdirectories, files in os.walk(self.root):
            subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
            for name in sorted(files):
                if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                    continue
                path = Path(directory) / name
                try:
                    info = path.stat()
                except OSError:  # removed between listing and stat: it is not there
                    continue
                yield Entry(
                    key=path.relative_to(self.root).as_posix(),
                    name=name,
                    stamp=f"{info.st_mtime_ns}:{info.st_size}",
                )

    def open(self, entry: Entry) -> BinaryIO:
        return (self.root / entry.key).open("rb")
