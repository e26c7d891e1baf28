"""An on-disk cache of passage embeddings, so comparing models or fusion settings on the large sets
does not re-embed thousands of passages each run (minutes per model on 2 cores). Questions are never
cached: their embedding time is part of the measured latency."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

from retrieval.embedders.base import Embedder


class CachedEmbedder(Embedder):
    def __init__(self, inner: Embedder, directory: Path) -> None:
        self.inner = inner
        self.name = inner.name
        directory.mkdir(parents=True, exist_ok=True)
        self.db_path = directory / f"{inner.name}.sqlite3"
        with closing(sqlite3.connect(self.db_path)) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")

    @property
    def dimension(self) -> int:  # type: ignore[override]
        return self.inner.dimension

    @property
    def max_tokens(self) -> int:  # type: ignore[override]
        return self.inner.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        with closing(sqlite3.connect(self.db_path)) as db:
            marks = ",".join("?" * len(keys))
            found = (
                dict(db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", keys))
                if keys
                else {}
            )
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            fresh = self.inner.embed_documents([texts[i] for i in missing])
            with closing(sqlite3.connect(self.db_path)) as db, db:
                db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                    [
                        (keys[i], fresh[j].astype(np.float32).tobytes())
                        for j, i in enumerate(missing)
                    ],
                )
            for j, i in enumerate(missing):
                found[keys[i]] = fresh[j].astype(np.float32).tobytes()
        return (
            np.stack([np.frombuffer(found[key], dtype=np.float32) for key in keys])
            if keys
            else (np.zeros((0, self.dimension), dtype=np.float32))
        )
