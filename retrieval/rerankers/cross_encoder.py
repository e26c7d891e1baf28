"""Cross-encoder reranker from a local sentence-transformers/transformers directory (e.g. a
bge-reranker a customer brings); nothing is downloaded."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from retrieval.rerankers.base import Reranker


class CrossEncoderReranker(Reranker):
    def __init__(self, model: str, top_n: int = 20, batch_size: int = 16, max_length: int = 512):
        self.model_path = Path(model)
        if not self.model_path.is_dir():
            raise ImproperlyConfigured(f"Reranker model directory {self.model_path} does not exist")
        self.top_n = top_n
        self.batch_size = batch_size
        self.max_length = max_length
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                from sentence_transformers import CrossEncoder

                self._model = CrossEncoder(
                    str(self.model_path),
                    device="cpu",
                    max_length=self.max_length,
                    local_files_only=True,
                )
        return self._model

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        scores = self._load().predict(
            [(query, p) for p in passages], batch_size=self.batch_size, show_progress_bar=False
        )
        return [float(s) for s in scores]
