"""The embedder interface every back end implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class Embedder(ABC):
    """Maps texts to L2-normalised float32 vectors, so inner product equals cosine similarity.

    `name` and `dimension` are recorded in the vector index: an index built by one model is never
    searched with another.
    """

    name: str
    dimension: int
    max_tokens: int  # the model reads at most this many tokens of a text; chunkers budget for it

    @abstractmethod
    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages, shape (len(texts), dimension)."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens the model would read for `text` (without special tokens)."""

    def embed_query(self, text: str) -> np.ndarray:
        """Vector for a question, shape (dimension,). Models with query prefixes override this."""
        return self.embed_documents([text])[0]
