"""The embedder interface every back end implements."""

from __future__ import annotations

import threading
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


class LazyModelEmbedder(Embedder):
    """An embedder whose model loads on first use, once per process, so that importing it (web
    start-up, `manage.py check`) stays cheap; the first embedding pays for the weights."""

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @abstractmethod
    def _create_model(self):
        """Build the underlying model (called once, under a lock)."""

    def _load(self):
        with self._lock:
            if self._model is None:
                self._model = self._create_model()
        return self._model
