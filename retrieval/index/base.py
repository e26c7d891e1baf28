"""The vector index interface and its errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


class IndexMismatch(Exception):
    """The index on disk was built by another embedding model or dimension; searching it would
    return nonsense, so callers must rebuild instead."""


@dataclass(frozen=True)
class VectorHit:
    id: int
    score: float


class VectorIndex(ABC):
    """A persistent id -> vector store.

    `update` is the only write: it removes and adds in one atomic step, so a document's old and new
    vectors are never both (or neither) visible to a reader.
    """

    @abstractmethod
    def update(
        self,
        *,
        model: str,
        remove_ids: np.ndarray | list[int] = (),
        add_ids: np.ndarray | list[int] = (),
        vectors: np.ndarray | None = None,
    ) -> None: ...

    @abstractmethod
    def search(
        self,
        *,
        model: str,
        vector: np.ndarray,
        k: int,
        allowed_ids: np.ndarray | None = None,
        excluded_ids: np.ndarray | None = None,
    ) -> list[VectorHit]:
        """The `k` nearest ids; with `allowed_ids`, only among those, and never `excluded_ids`
        (filtered inside the search, so k results come back even when most of the index is
        excluded)."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def clear(self) -> None:
        """Remove every vector and the recorded model (before re-indexing with another one)."""
