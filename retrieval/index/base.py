"""The vector index interface and its errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from retrieval.idsets import IdSet


class IndexMismatch(Exception):
    """The index on disk was built by another embedding model or dimension; searching it would
    return nonsense, so callers must rebuild instead."""


@dataclass(frozen=True)
class VectorHit:
    id: int
    score: float


class VectorBuild(ABC):
    """A new index filled beside the one searches use, then put in its place at once."""

    @abstractmethod
    def add(self, ids: np.ndarray | list[int], vectors: np.ndarray) -> None: ...

    @abstractmethod
    def switch(self) -> None:
        """Make the new index the one searched, and drop the old, in one transaction."""

    @abstractmethod
    def abandon(self) -> None:
        """Throw the new index away (the rebuild failed): searches keep the old one."""


class VectorIndex(ABC):
    """A persistent id -> vector store.

    `update` is the only write: it removes and adds in one atomic step, so a document's old and new
    vectors are never both (or neither) visible to a reader.

    `in_database`: the store writes through Django's database connection, so its writes join the
    caller's transaction (ingestion then writes chunks and vectors in one commit).
    """

    in_database = False

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
        allowed_ids: IdSet | None = None,
        excluded_ids: IdSet | None = None,
    ) -> list[VectorHit]:
        """The `k` nearest ids; with `allowed_ids`, only among those, and never `excluded_ids`
        (filtered inside the search, so k results come back even when most of the index is
        excluded). Either may be ids or a lazy query of them (`retrieval.idsets`)."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def clear(self) -> None:
        """Remove every vector and the recorded model (before re-indexing with another one)."""

    def build_beside(self, *, model: str) -> VectorBuild | None:
        """A rebuild with `model` beside the index searches keep using until it switches; None
        where the store cannot (the caller clears it and refills it in place instead)."""
        return None
