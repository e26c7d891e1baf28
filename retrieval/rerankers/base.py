"""The reranker interface: score (question, passage) pairs jointly, more accurately than the
first-stage retrievers but too slowly to run over the whole corpus."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence


class Reranker(ABC):
    top_n: int  # how many fused candidates are rescored

    @abstractmethod
    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        """One relevance score per passage; higher is better."""
